import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pythonRepr } from './python-repr.js';

// Expected texts come from CPython 3.11: repr(json.loads(input)).
const cases: [string, string, string][] = [
  ['ovs hybrid details', '{"port_filter": true, "ovs_hybrid_plug": true}', "{'port_filter': True, 'ovs_hybrid_plug': True}"],
  [
    'ovs details with strings',
    '{"connectivity": "l2", "port_filter": true, "bridge_name": "br-int", "datapath_type": "system"}',
    "{'connectivity': 'l2', 'port_filter': True, 'bridge_name': 'br-int', 'datapath_type': 'system'}",
  ],
  ['nested dict and integer', '{"vlan": 101, "bound_drivers": {"0": "openvswitch"}}', "{'vlan': 101, 'bound_drivers': {'0': 'openvswitch'}}"],
  [
    'quotes, backslash and control characters',
    '{"note": "it\'s", "both": "it\'s \\"x\\"", "slash": "a\\\\b", "ctl": "a\\tb\\n\\u0001\\u00e9\\u200b"}',
    '{\'note\': "it\'s", \'both\': \'it\\\'s "x"\', \'slash\': \'a\\\\b\', \'ctl\': \'a\\tb\\n\\x01\u00e9\\u200b\'}',
  ],
  ['lists, null, floats', '{"list": [1, 2.5, null, false], "empty": {}, "neg": -3, "small": 0.00001}', "{'list': [1, 2.5, None, False], 'empty': {}, 'neg': -3, 'small': 1e-05}"],
];

describe('pythonRepr', () => {
  for (const [label, json, expected] of cases) {
    it(`matches CPython for ${label}`, () => {
      assert.equal(pythonRepr(JSON.parse(json)), expected);
    });
  }
});
