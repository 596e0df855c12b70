/** GET/PUT /api/config/alert-rules and GET /api/alerts/rules: the rules beyond the data cap and their alerts (issue #12). */
import { Type } from '../type.js';
import { AlertRulesBody, checkRules, type AlertRule } from '../../alerts/rules.js';
import type { RuleAlert, RuleAlertsService } from '../../alerts/rule-alerts-service.js';
import { isValidInterfaceName } from '../../collector/interface-name.js';
import type { App } from '../app.js';
import type { AppContext } from '../context.js';
import { HttpError, badRequest } from '../errors.js';
import { ErrorBody, withErrors } from '../schemas.js';

const iso = (sec: number | null) => (sec === null ? null : new Date(sec * 1000).toISOString());

const RuleAlertSchema = Type.Object({
  id: Type.Integer(),
  rule_id: Type.String(),
  type: Type.String(),
  interface: Type.Union([Type.String(), Type.Null()]),
  state: Type.String({ enum: ['firing', 'cleared'] }),
  fired_at: Type.String(),
  cleared_at: Type.Union([Type.String(), Type.Null()]),
  message: Type.String(),
  clear_message: Type.Union([Type.String(), Type.Null()]),
  delivery: Type.Object({ status: Type.String({ enum: ['not_configured', 'pending', 'delivered', 'failed'] }), attempts: Type.Integer(), last_error: Type.Union([Type.String(), Type.Null()]) }),
});

export function apiRuleAlert(a: RuleAlert) {
  return {
    id: a.id,
    rule_id: a.ruleId,
    type: a.ruleType,
    interface: a.interfaceName,
    state: a.clearedAtSec === null ? 'firing' : 'cleared',
    fired_at: iso(a.firedAtSec)!,
    cleared_at: iso(a.clearedAtSec),
    message: a.message,
    clear_message: a.clearMessage,
    delivery: { status: a.delivery.status, attempts: a.delivery.attempts, last_error: a.delivery.lastError },
  };
}

export function registerAlertRuleRoutes(app: App, ctx: AppContext): void {
  const service = (): RuleAlertsService => {
    if (ctx.ruleAlerts === undefined) throw new HttpError(503, 'ALERT_RULES_UNAVAILABLE', 'alert rules are not running in this server');
    return ctx.ruleAlerts;
  };
  const RulesView = Type.Object({ rules: Type.Array(Type.Unknown()), channels: Type.Object({ webhook: Type.Boolean(), ntfy: Type.Boolean(), template: Type.Boolean() }) });
  const view = () => ({ rules: service().rules(), channels: service().channels() });

  app.get(
    '/api/config/alert-rules',
    { schema: { tags: ['config'], summary: 'Alert rules beyond the data cap: rate above, interface down, no traffic; and which delivery channels are set', response: { 200: RulesView, 503: ErrorBody } } },
    async () => view(),
  );

  app.put(
    '/api/config/alert-rules',
    {
      schema: {
        tags: ['config'],
        summary: 'Replace the alert rules',
        description:
          'Body { "rules": [...] }: {"id","type":"rate_above","interface":name|null (the monitored total),"direction":"rx"|"tx"|"total","bytes_per_sec","minutes"}, {"id","type":"interface_down","interface"}, {"id","type":"no_traffic","interface","minutes"}. Open alerts of changed or removed rules are cleared. Errors: VALIDATION_ERROR, INVALID_ALERT_RULES.',
        security: [{ bearer: [] }],
        body: AlertRulesBody,
        response: { ...withErrors({ 200: RulesView }), 503: ErrorBody },
      },
    },
    async (req) => {
      const rules = req.body.rules as AlertRule[];
      const problem = checkRules(rules);
      if (problem !== null) throw badRequest('INVALID_ALERT_RULES', problem);
      const bad = rules.find((r) => r.interface !== null && !isValidInterfaceName(r.interface));
      if (bad !== undefined) throw badRequest('INVALID_INTERFACE_NAME', `rule "${bad.id}": "${bad.interface}" is not a valid interface name`);
      service().setRules(rules);
      return view();
    },
  );

  app.get(
    '/api/alerts/rules',
    {
      schema: {
        tags: ['usage'],
        summary: 'Alerts of the alert rules, newest event first: each crossing once, with its clearing',
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) }),
        response: { ...withErrors({ 200: Type.Object({ alerts: Type.Array(RuleAlertSchema), firing: Type.Integer() }) }), 503: ErrorBody },
      },
    },
    async (req) => {
      const alerts = service().list(req.query.limit).map(apiRuleAlert);
      return { alerts, firing: alerts.filter((a) => a.state === 'firing').length };
    },
  );
}
