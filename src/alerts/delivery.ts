/**
 * Sending an alert event to the configured channels: the webhook (JSON POST, as the data-cap alerts), ntfy
 * (a POST of the message text with Title, Priority and Tags headers, https://docs.ntfy.sh/publish/) and a
 * generic JSON body template (NETPULSE_ALERT_TEMPLATE with {{placeholders}}, POSTed to
 * NETPULSE_ALERT_TEMPLATE_URL — Slack, Discord, Gotify, Matrix hooks…). Each with a timeout, retried with
 * exponential backoff up to maxAttempts; one call resolves when every channel succeeded or gave up.
 */
import { splitCredentials, stringifyWithBigInt } from '../services/alerts-service.js';

export interface AlertEvent {
  event: 'fired' | 'cleared';
  ruleId: string;
  ruleType: string;
  interfaceName: string | null;
  message: string;
  value: string;
  atSec: number;
  device: { id: string; name: string };
}

export interface ChannelsConfig {
  webhookUrl: string | null;
  ntfyUrl: string | null;
  template: { url: string; body: string } | null;
}

export interface DeliveryOptions {
  timeoutMs?: number;
  maxAttempts?: number;
  baseDelayMs?: number;
  fetch?: typeof fetch;
  /** Interrupts waits and requests (shutdown). */
  signal?: AbortSignal;
}

export const TEMPLATE_PLACEHOLDERS = ['event', 'rule', 'type', 'interface', 'message', 'value', 'time', 'device'] as const;

/** The template with every {{name}} replaced by the value, escaped for a JSON string (placeholders sit inside quotes). */
export function renderTemplate(template: string, e: AlertEvent): string {
  const values: Record<(typeof TEMPLATE_PLACEHOLDERS)[number], string> = {
    event: e.event,
    rule: e.ruleId,
    type: e.ruleType,
    interface: e.interfaceName ?? 'total',
    message: e.message,
    value: e.value,
    time: new Date(e.atSec * 1000).toISOString(),
    device: e.device.name,
  };
  return template.replace(/\{\{\s*([a-z]+)\s*\}\}/g, (whole, name: string) => (name in values ? JSON.stringify(values[name as keyof typeof values]).slice(1, -1) : whole));
}

/** A template is valid when, filled in, it is JSON. Returns the problem, or null. */
export function checkTemplate(template: string): string | null {
  const probe: AlertEvent = { event: 'fired', ruleId: 'r', ruleType: 'rate_above', interfaceName: 'eth0', message: 'm "q"', value: '1', atSec: 0, device: { id: 'd', name: 'n' } };
  try {
    JSON.parse(renderTemplate(template, probe));
    return null;
  } catch (err) {
    return `is not JSON once its {{placeholders}} are filled in (${err instanceof Error ? err.message : String(err)}); placeholders: ${TEMPLATE_PLACEHOLDERS.map((p) => `{{${p}}}`).join(' ')}`;
  }
}

interface Request {
  channel: string;
  url: string;
  init: RequestInit;
}

function requestsFor(channels: ChannelsConfig, e: AlertEvent): Request[] {
  const out: Request[] = [];
  if (channels.webhookUrl !== null) {
    out.push({
      channel: 'webhook',
      url: channels.webhookUrl,
      init: {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: stringifyWithBigInt({ event: `rule.${e.event}`, device: e.device, alert: { rule_id: e.ruleId, type: e.ruleType, interface: e.interfaceName, message: e.message, value: e.value, at: new Date(e.atSec * 1000).toISOString() } }),
      },
    });
  }
  if (channels.ntfyUrl !== null) {
    out.push({
      channel: 'ntfy',
      url: channels.ntfyUrl,
      init: {
        method: 'POST',
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          title: `Net-Pulse ${e.device.name}: ${e.event === 'fired' ? e.ruleId : `${e.ruleId} cleared`}`,
          priority: e.event === 'fired' ? '4' : '3',
          tags: e.event === 'fired' ? 'warning' : 'white_check_mark',
        },
        body: e.message,
      },
    });
  }
  if (channels.template !== null) {
    out.push({ channel: 'template', url: channels.template.url, init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: renderTemplate(channels.template.body, e) } });
  }
  return out;
}

export function channelsConfigured(channels: ChannelsConfig): boolean {
  return channels.webhookUrl !== null || channels.ntfyUrl !== null || channels.template !== null;
}

/** Sends to every channel; resolves with the attempts made and the first error left, if any. */
export async function deliverEvent(channels: ChannelsConfig, e: AlertEvent, options: DeliveryOptions = {}): Promise<{ attempts: number; error: string | null }> {
  const doFetch = options.fetch ?? fetch;
  const maxAttempts = options.maxAttempts ?? 6;
  const baseDelayMs = options.baseDelayMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 5000;
  let attempts = 0;
  const errors: string[] = [];
  await Promise.all(
    requestsFor(channels, e).map(async (r) => {
      const target = splitCredentials(r.url)!;
      const headers = { ...(r.init.headers as Record<string, string>), ...(target.authorization === null ? {} : { authorization: target.authorization }) };
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        if (options.signal?.aborted) {
          errors.push(`${r.channel}: stopped`);
          return;
        }
        attempts++;
        try {
          const res = await doFetch(target.url, { ...r.init, headers, signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])]) });
          await res.body?.cancel().catch(() => undefined);
          if (res.ok) return;
          if (attempt === maxAttempts) errors.push(`${r.channel}: HTTP ${res.status}`);
        } catch (err) {
          if (attempt === maxAttempts) errors.push(`${r.channel}: ${err instanceof Error ? err.message : String(err)}`);
        }
        if (attempt < maxAttempts) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.min(60_000, baseDelayMs * 2 ** (attempt - 1)));
            options.signal?.addEventListener('abort', () => {
              clearTimeout(timer);
              resolve();
            }, { once: true });
          });
        }
      }
    }),
  );
  return { attempts, error: errors.length === 0 ? null : errors.join('; ') };
}
