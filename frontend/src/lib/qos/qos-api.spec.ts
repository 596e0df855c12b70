import { describe, expect, it } from 'vitest';
import { ParseError } from '../api/parse';
import { checkQosForm, defaultQosConfig, parseQosView, ruleFromText, ruleToText, secondsLeft } from './qos-api';

describe('QoS page helpers', () => {
  it('a rule survives text and back', () => {
    const rule = { class: 'voice', dscp: 'ef', protocol: 'udp' as const, ports: [5060, 5061], hosts: ['10.0.0.5', '10.1.0.0/16'], category: 'voice' as const };
    expect(ruleFromText(ruleToText(rule))).toEqual(rule);
  });

  it('a rule line without key=value parts is named as the problem', () => {
    expect(ruleFromText('voice: dscp')).toBe('"dscp" needs key=value');
    expect(ruleFromText('no colon here')).toMatch(/needs the form/);
    expect(ruleFromText('voice: proto=sctp')).toMatch(/is not dscp=/);
  });

  it('the form check catches shares over 100 % and a ceiling under the share', () => {
    const c = defaultQosConfig('eth0');
    expect(checkQosForm(c)).toEqual([]);
    c.classes[0]!.share_percent = 50;
    c.classes[1]!.ceil_percent = 10;
    expect(checkQosForm(c)).toEqual(['The guaranteed shares add up to 140 %; at most 100 %.', 'Video: the ceiling must be between its share and 100 %.']);
  });

  it('the countdown never goes below zero', () => {
    expect(secondsLeft('2026-12-01T00:01:00.000Z', Date.parse('2026-12-01T00:00:00.500Z'))).toBe(60);
    expect(secondsLeft('2026-12-01T00:01:00.000Z', Date.parse('2026-12-01T00:02:00.000Z'))).toBe(0);
  });

  it('parseQosView accepts the off answer and refuses a wrong shape', () => {
    expect(parseQosView({ allowed: false, reason: 'off', capabilities: null, config: null, applied: null, classes: [] }).allowed).toBe(false);
    expect(() => parseQosView({ allowed: 'yes' })).toThrow(ParseError);
    expect(() => parseQosView({ allowed: true, capabilities: null, config: null, applied: { interface: 'eth0' }, classes: [] })).toThrow(ParseError);
  });
});
