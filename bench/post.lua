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
