import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dnsLabelProblem, dnsSubdomainProblem, labelValueProblem, portNameProblem, qualifiedNameProblem, rfc1035LabelProblem } from './names.js';

test('DNS-1123 labels and subdomains', () => {
  for (const ok of ['a', 'web', 'web-1', '1abc', 'a'.repeat(63)]) assert.equal(dnsLabelProblem(ok), undefined, ok);
  for (const bad of ['', 'Web', '-a', 'a-', 'a.b', 'a_b', 'a'.repeat(64)]) assert.notEqual(dnsLabelProblem(bad), undefined, bad);
  for (const ok of ['a.b', 'my-app.v1', 'a'.repeat(253)]) assert.equal(dnsSubdomainProblem(ok), undefined, ok);
  for (const bad of ['a..b', '.a', 'A.b', 'a'.repeat(254)]) assert.notEqual(dnsSubdomainProblem(bad), undefined, bad);
  assert.match(dnsLabelProblem('Web')!, /DNS-1123 label.*\(got "Web"\)/);
});

test('RFC 1035 labels start with a letter', () => {
  assert.equal(rfc1035LabelProblem('web'), undefined);
  assert.notEqual(rfc1035LabelProblem('1web'), undefined);
});

test('qualified names and label values', () => {
  for (const ok of ['app', 'app.kubernetes.io/name', 'ambit.dev/dataplane-mode', 'A_b.c']) assert.equal(qualifiedNameProblem(ok), undefined, ok);
  for (const bad of ['', '/a', 'a/', 'Bad_Prefix/a', '-a', 'a/b/c']) assert.notEqual(qualifiedNameProblem(bad), undefined, bad);
  for (const ok of ['', 'v1', 'a.b_c-d']) assert.equal(labelValueProblem(ok), undefined, ok);
  for (const bad of ['-a', 'a b', 'x'.repeat(64)]) assert.notEqual(labelValueProblem(bad), undefined, bad);
});

test('port names (IANA_SVC_NAME)', () => {
  for (const ok of ['http', 'grpc-web', 'h2c', 'a1']) assert.equal(portNameProblem(ok), undefined, ok);
  for (const bad of ['', 'HTTP', '8080', 'a--b', '-a', 'averyveryverylongname']) assert.notEqual(portNameProblem(bad), undefined, bad);
});
