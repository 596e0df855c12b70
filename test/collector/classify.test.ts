import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyInterface, type InterfaceFacts } from '../../src/collector/classify.js';
import type { InterfaceKind } from '../../src/collector/counter-source.js';

const physical = { linkType: 1, isLoopback: false, isWireless: false, isBridge: false, isTunTap: false, isVirtual: false };
const virtual = { ...physical, isVirtual: true };

const table: [string, Partial<InterfaceFacts> & { name: string }, InterfaceKind][] = [
  ['a physical ethernet port', { ...physical, name: 'enp0s31f6' }, 'ethernet'],
  ['eth0 on a server', { ...physical, name: 'eth0' }, 'ethernet'],
  ['lo by link type 772', { ...virtual, name: 'lo', linkType: 772 }, 'loopback'],
  ['an interface with IFF_LOOPBACK', { ...virtual, name: 'weird', isLoopback: true }, 'loopback'],
  ['macOS lo0 without a link type', { ...virtual, name: 'lo0', linkType: null }, 'loopback'],
  ['wlan0 with phy80211', { ...physical, name: 'wlan0', isWireless: true }, 'wireless'],
  ['a monitor interface by radiotap type 803', { ...physical, name: 'mon0', linkType: 803 }, 'wireless'],
  ['docker0, a bridge for containers', { ...virtual, name: 'docker0', isBridge: true }, 'container'],
  ['a docker user network bridge', { ...virtual, name: 'br-1a2b3c4d5e6f', isBridge: true }, 'container'],
  ['a container veth', { ...virtual, name: 'veth1a2b3c4' }, 'container'],
  ['a CNI bridge', { ...virtual, name: 'cni0', isBridge: true }, 'container'],
  ['flannel.1', { ...virtual, name: 'flannel.1' }, 'container'],
  ['a calico veth', { ...virtual, name: 'cali3f1b2c4d5e6' }, 'container'],
  ['libvirt virbr0-nic', { ...virtual, name: 'virbr0-nic' }, 'container'],
  ['a libvirt VM tap', { ...virtual, name: 'vnet0', isTunTap: true }, 'container'],
  ['br0, a plain bridge', { ...virtual, name: 'br0', isBridge: true }, 'bridge'],
  ['wg0 by link type none', { ...virtual, name: 'wg0', linkType: 65534 }, 'tunnel'],
  ['a WireGuard link with any name', { ...virtual, name: 'office', linkType: 65534 }, 'tunnel'],
  ['tun0 with tun_flags', { ...virtual, name: 'tun0', linkType: 65534, isTunTap: true }, 'tunnel'],
  ['a tap device (ethernet type) with tun_flags', { ...virtual, name: 'vpn-tap', isTunTap: true }, 'tunnel'],
  ['tailscale0', { ...virtual, name: 'tailscale0', linkType: 65534 }, 'tunnel'],
  ['a ZeroTier link (ethernet type)', { ...virtual, name: 'ztabcdef12' }, 'tunnel'],
  ['tunl0, ipip', { ...virtual, name: 'tunl0', linkType: 768 }, 'tunnel'],
  ['ip6tnl0', { ...virtual, name: 'ip6tnl0', linkType: 769 }, 'tunnel'],
  ['sit0', { ...virtual, name: 'sit0', linkType: 776 }, 'tunnel'],
  ['gre0', { ...virtual, name: 'gre0', linkType: 778 }, 'tunnel'],
  ['gretap0 (ethernet type)', { ...virtual, name: 'gretap0' }, 'tunnel'],
  ['ppp0 by link type 512', { ...physical, name: 'ppp0', linkType: 512 }, 'tunnel'],
  ['macOS utun3 without a link type', { ...virtual, name: 'utun3', linkType: null }, 'tunnel'],
  ['a VLAN on eth0', { ...virtual, name: 'eth0.100' }, 'virtual'],
  ['bond0', { ...virtual, name: 'bond0' }, 'virtual'],
  ['a dummy interface', { ...virtual, name: 'dummy0' }, 'virtual'],
  ['an InfiniBand port (type 32)', { ...physical, name: 'ib0', linkType: 32 }, 'other'],
  ['a CAN bus (type 280)', { ...physical, name: 'can0', linkType: 280 }, 'other'],
  ['a Windows adapter without a link type', { ...physical, name: 'Ethernet 2', linkType: null }, 'other'],
];

for (const [situation, facts, kind] of table) {
  test(`classifyInterface calls ${situation} ${kind}`, () => {
    assert.equal(classifyInterface({ ...physical, ...facts }), kind);
  });
}
