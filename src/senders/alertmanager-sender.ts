// Prometheus Alertmanager webhook notifications (version 4): firing or resolved alert groups.
import type { AlertSummary, Sender, SenderParse, SenderRequest, SignatureCheck } from './sender.ts'
import type { JsonObject } from './sender-payload.ts'
import {
  accepted,
  arrayAt,
  deliveryIdOf,
  header,
  invalid,
  isObject,
  jsonObjectBody,
  objectAt,
  quote,
  readJsonBody,
  stringAt,
} from './sender-payload.ts'
import { checkAuthorization } from './signature.ts'

type AlertStatus = 'firing' | 'resolved'

const asStatus = (value: unknown): AlertStatus | undefined =>
  value === 'firing' || value === 'resolved' ? value : undefined

function labelsOf(value: unknown): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const [key, label] of Object.entries(objectAt(value) ?? {})) {
    if (typeof label === 'string') {
      labels[key] = label
    }
  }
  return labels
}

function summarise(alert: JsonObject, groupStatus: AlertStatus): AlertSummary {
  const labels = labelsOf(alert.labels)
  return {
    name: labels.alertname ?? '',
    status: asStatus(alert.status) ?? groupStatus,
    labels,
  }
}

export class AlertmanagerSender implements Sender {
  readonly id = 'alertmanager'

  recognise(request: SenderRequest): boolean {
    const body = jsonObjectBody(request)
    return body?.version === '4' && Array.isArray(body.alerts) && typeof body.status === 'string'
  }

  /** Alertmanager's `http_config` sends `authorization` (Bearer) or `basic_auth`; both work. */
  verify(request: SenderRequest, secret: string): SignatureCheck {
    return checkAuthorization(header(request, 'authorization'), secret)
  }

  parse(request: SenderRequest): SenderParse {
    const body = readJsonBody(request)
    if (!body.ok) {
      return invalid(`an Alertmanager notification must be JSON: ${body.problem}`)
    }
    const payload = body.value
    const version = stringAt(payload.version)
    if (version !== '4') {
      return invalid(
        `an Alertmanager notification must be webhook version "4", found ${version === undefined ? 'none' : quote(version)}`,
      )
    }
    const status = asStatus(payload.status)
    if (status === undefined) {
      return invalid('an Alertmanager notification must have status "firing" or "resolved"')
    }
    const alerts = arrayAt(payload.alerts)
    if (alerts === undefined) {
      return invalid('an Alertmanager notification must carry an "alerts" list')
    }
    return accepted({
      kind: 'alert',
      alertStatus: status,
      alerts: alerts.filter(isObject).map((alert) => summarise(alert, status)),
      deliveryId: deliveryIdOf(request),
    })
  }
}
