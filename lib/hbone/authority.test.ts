import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAuthority, parseAuthority } from './authority.js';

test('parses IPv4 and bracketed IPv6 authorities', () => {
  assert.deepEqual(parseAuthority('10.1.2.3:8080'), { ok: true, value: { host: '10.1.2.3', port: 8080, family: 4 } });
  assert.deepEqual(parseAuthority('[fd00::1]:443'), { ok: true, value: { host: 'fd00::1', port: 443, family: 6 } });
});

test('refuses host names, missing or bad ports, unbracketed IPv6 and junk', () => {
  for (const bad of [undefined, '', 'example.com:80', '10.0.0.1', '10.0.0.1:', '10.0.0.1:0', '10.0.0.1:65536', '10.0.0.1:8a', 'fd00::1:80', '[fd00::1]', '[nothost]:80', '999.1.1.1:80', `10.0.0.1:${'9'.repeat(80)}`, '1.2.3.4:80\r\nx: y']) {
    const r = parseAuthority(bad);
    assert.equal(r.ok, false, String(bad));
    if (!r.ok) assert.equal(r.error.code, 'AMBIT_ERR_HBONE_PROTOCOL');
  }
});

test('formats canonical authorities, unmapping v4-mapped IPv6', () => {
  assert.equal(formatAuthority('10.0.0.1', 80), '10.0.0.1:80');
  assert.equal(formatAuthority('::ffff:10.0.0.1', 80), '10.0.0.1:80');
  assert.equal(formatAuthority('fd00::1', 80), '[fd00::1]:80');
});
