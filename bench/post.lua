-- wrk script for the benchmark: POST a ~1 KB JSON body (the same for every server).
-- With BENCH_PATHS naming a file of paths (one per line), each request goes to a random one.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local filler = string.rep("x", 900)
wrk.body = '{"ref":"refs/heads/main","after":"6113728f27ae82c7b1a177c8d03f9e96e0adf246",'
  .. '"repository":{"name":"web","full_name":"acme/web"},"note":"' .. filler .. '"}'

local paths = nil
local file = os.getenv("BENCH_PATHS")
if file ~= nil and file ~= "" then
  paths = {}
  for line in io.lines(file) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  math.randomseed(os.time())
  request = function()
    return wrk.format(nil, paths[math.random(#paths)])
  end
end

-- With BENCH_COUNT_STATUS set, answers are counted by status and printed at the end as
-- "statuses 202=n,503=m" (wrk alone only counts non-2xx). Costs wrk a little per answer.
local counting = os.getenv("BENCH_COUNT_STATUS")
if counting ~= nil and counting ~= "" then
  local threads = {}
  function setup(thread)
    threads[#threads + 1] = thread
  end
  function init(args)
    statuses = {}
  end
  function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
  end
  function done(summary, latency, requests)
    local total = {}
    for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("statuses")) do
        total[status] = (total[status] or 0) + n
      end
    end
    local parts = {}
    for status, n in pairs(total) do
      parts[#parts + 1] = status .. "=" .. n
    end
    io.write("statuses " .. table.concat(parts, ",") .. "\n")
  end
end
