import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminGet, applyText, awaitCondition, eventually, expectConnections, fixture, LabHarness, requireRoot, type Condition, type LabStatusJson } from './harness.js';

/**
 * Every policy shape the CRDs accept, against real traffic from real pods:
 * each case applies a policy, waits until the node agents of the nodes where
 * it can apply hold it (the controller sends it nowhere else), checks
 * the status conditions, and then checks that connections are allowed and
 * refused exactly as the `Enforced` condition claims — from meshed clients
 * (mutual TLS, same node and across the fabric) and from a client outside the
 * mesh (plaintext), to a Service's ClusterIP, to its pods' IPs, and to a port
 * no Service names. One lab serves every case; each case removes what it
 * applied.
 */
describe('policy shapes against real traffic', { timeout: 900_000 }, () => {
  const lab = new LabHarness();
  let st: LabStatusJson;
  /** `host:port` of a pod. */
  const at = (pod: string, port: number) => {
    const [ns, name] = pod.split('/');
    const p = st.pods.find((x) => x.namespace === ns && x.name === name);
    assert.ok(p?.ip, `pod ${pod} has an address`);
    return `${p.ip}:${port}`;
  };
  let webVip: string;

  before(async () => {
    requireRoot();
    await lab.must(['lab', 'up', '-f', fixture('policy-shapes.yaml'), '--nodes', '2']);
    st = await lab.status();
    webVip = `${st.services.find((s) => s.namespace === 'shapes' && s.name === 'web')!.clusterIP}:80`;
    // Everything answers before any policy.
    await expectTraffic('shapes/client', { allowed: [webVip, webVip, at('shapes/web-1', 8080), at('shapes/web-2', 9090), at('shapes/other', 8080), at('extra/echo', 8080), at('outside/outsider', 8080)] });
    await expectTraffic('outside/outsider', { allowed: [webVip, at('shapes/web-1', 8080), at('shapes/web-2', 9090)] });
  });

  after(async () => {
    await lab.ambit(['lab', 'down']);
  });

  // ---- helpers ----

  const expectTraffic = (pod: string, e: { allowed?: string[]; refused?: string[] }) => expectConnections(lab, pod, e);

  type Kind = 'AuthorizationPolicy' | 'PeerAuthentication';
  const DUMP_KEY: Record<Kind, string> = { AuthorizationPolicy: 'authorizationPolicies', PeerAuthentication: 'peerAuthentications' };
  const PLURAL: Record<Kind, string> = { AuthorizationPolicy: 'authorizationpolicies.ambit.dev', PeerAuthentication: 'peerauthentications.ambit.dev' };

  /** What each node agent holds of a policy, by node: `JSON.stringify` of it, `null` when nothing. */
  const agentsHold = async (kind: Kind, ns: string, name: string): Promise<Map<string, string>> =>
    new Map(
      await Promise.all(
        st.components
          .filter((c) => c.kind === 'node-agent')
          .map(async (c): Promise<[string, string]> => {
            const dump = JSON.parse(await adminGet(lab, c.admin, '/config_dump')) as { model: Record<string, { namespace: string; name: string }[]> };
            return [c.node!, JSON.stringify(dump.model[DUMP_KEY[kind]]!.find((p) => p.namespace === ns && p.name === name) ?? null)];
          }),
      ),
    );

  /** Waits (bounded) for a condition to satisfy `check` and returns it. */
  const condition = (kind: Kind, ns: string, name: string, type: string, check?: (c: Condition) => boolean): Promise<Condition> => awaitCondition(lab, PLURAL[kind], ns, name, type, check);

  /**
   * Applies a policy, waits until the agents of `nodes` (default: both) hold this version, runs
   * `body`, checks that no other agent was sent it (a policy goes only to the nodes where it can
   * apply: ARCHITECTURE.md, "What each agent receives"), and removes the policy again.
   */
  async function withPolicy(kind: Kind, ns: string, name: string, spec: string, body: () => Promise<void>, nodes?: string[]): Promise<void> {
    const manifest = `apiVersion: ambit.dev/v1alpha1\nkind: ${kind}\nmetadata: { name: ${name}, namespace: ${ns} }\n`;
    const before = await agentsHold(kind, ns, name);
    const holders = nodes ?? [...before.keys()];
    await applyText(lab, `${manifest}spec:\n${spec}`);
    const held = async () => {
      const now = await agentsHold(kind, ns, name);
      return holders.every((n) => now.get(n) !== 'null' && now.get(n) !== before.get(n));
    };
    assert.ok(await eventually(held, 80), `the node agents of ${holders.join(', ')} hold ${kind} ${ns}/${name}`);
    try {
      await body();
      const now = await agentsHold(kind, ns, name);
      assert.deepEqual([...now].filter(([n, h]) => !holders.includes(n) && h !== 'null'), [], `${kind} ${ns}/${name} only on ${holders.join(', ') || 'no node'}`);
    } finally {
      await applyText(lab, manifest, 'delete');
      assert.ok(await eventually(async () => [...(await agentsHold(kind, ns, name)).values()].every((h) => h === 'null'), 80), `every node agent dropped ${kind} ${ns}/${name}`);
    }
  }

  const authz = (ns: string, name: string, spec: string, body: () => Promise<void>, nodes?: string[]) => withPolicy('AuthorizationPolicy', ns, name, spec, body, nodes);

  // ---- the shapes ----

  it('targetRefs Service: the destination agents enforce it on the endpoint ports, by ClusterIP and pod IP; other ports pass', async () => {
    await authz('shapes', 'deny-web', '  targetRefs: [{ kind: Service, name: web }]\n  action: DENY\n  rules: [{}]\n', async () => {
      const endpointPorts = [webVip, webVip, at('shapes/web-1', 8080), at('shapes/web-2', 8080)];
      await expectTraffic('shapes/client', { refused: endpointPorts, allowed: [at('shapes/web-1', 9090), at('shapes/web-2', 9090), at('shapes/other', 8080)] });
      await expectTraffic('outside/outsider', { refused: endpointPorts, allowed: [at('shapes/web-1', 9090), at('shapes/web-2', 9090)] });

      const accepted = await condition('AuthorizationPolicy', 'shapes', 'deny-web', 'Accepted');
      assert.equal(accepted.message, 'Valid; the Enforced condition says where it is in force.');
      const c = await condition('AuthorizationPolicy', 'shapes', 'deny-web', 'Enforced');
      assert.deepEqual([c.status, c.reason], ['True', 'NodeAgents']);
      assert.match(c.message, /^Service web: the node agents enforce it .* by ClusterIP or pod IP alike: port 8080 \(Service port 80\) of pods web-1, web-2; other ports of those pods are not covered\.$/);
    });
    await expectTraffic('shapes/client', { allowed: [webVip, at('shapes/web-2', 8080)] });
  });

  it('targetRefs Service labelled for a waypoint that does not exist: still the destination agents (ALLOW), and the status says why', async () => {
    await lab.must(['lab', 'kubectl', 'label', 'service', 'web', '-n', 'shapes', 'ambit.dev/use-waypoint=wp']);
    try {
      const spec = '  targetRefs: [{ kind: Service, name: web }]\n  action: ALLOW\n  rules: [{ from: [{ source: { principals: ["cluster.local/ns/shapes/sa/client"] } }] }]\n';
      await authz('shapes', 'allow-client', spec, async () => {
        const c = await condition('AuthorizationPolicy', 'shapes', 'allow-client', 'Enforced', (x) => x.message.includes('shapes/wp'));
        assert.deepEqual([c.status, c.reason], ['True', 'NodeAgents']);
        assert.match(c.message, /port 8080 \(Service port 80\) of pods web-1, web-2;.* Its ambit\.dev\/use-waypoint label names waypoint shapes\/wp, which does not exist, so its traffic still goes straight to its endpoints\.$/);

        const endpointPorts = [webVip, webVip, at('shapes/web-1', 8080), at('shapes/web-2', 8080)];
        await expectTraffic('shapes/client', { allowed: endpointPorts });
        await expectTraffic('shapes/intruder', { refused: endpointPorts, allowed: [at('shapes/web-1', 9090), at('shapes/other', 8080)] });
        await expectTraffic('outside/outsider', { refused: [at('shapes/web-2', 8080)], allowed: [at('shapes/web-2', 9090)] });
      });
    } finally {
      await lab.must(['lab', 'kubectl', 'label', 'service', 'web', '-n', 'shapes', 'ambit.dev/use-waypoint-']);
    }
  });

  it('targetRefs Waypoint: enforced nowhere while the waypoint does not exist, by the waypoint once it runs, and the status says which', async () => {
    // A Waypoint target is that waypoint's alone: no node agent is sent the policy.
    await authz('shapes', 'deny-at-waypoint', '  targetRefs: [{ kind: Waypoint, name: wp }]\n  action: DENY\n  rules: [{}]\n', async () => {
      const missing = await condition('AuthorizationPolicy', 'shapes', 'deny-at-waypoint', 'Enforced');
      assert.deepEqual([missing.status, missing.reason], ['False', 'NotEnforced']);
      assert.match(missing.message, /^It targets waypoint shapes\/wp, which does not exist; .* so nothing enforces it there\.$/);
      await expectTraffic('shapes/client', { allowed: [webVip, at('shapes/web-1', 8080), at('shapes/web-2', 8080)] });

      const waypoint = 'apiVersion: ambit.dev/v1alpha1\nkind: Waypoint\nmetadata: { name: wp, namespace: shapes }\n';
      await applyText(lab, waypoint);
      try {
        const running = await condition('AuthorizationPolicy', 'shapes', 'deny-at-waypoint', 'Enforced', (x) => x.status === 'True');
        assert.deepEqual([running.reason, running.message], ['Waypoint', 'Waypoint wp enforces it on the traffic it serves.']);
        // Nothing is bound to the waypoint, so nothing it denies is sent through it.
        await expectTraffic('shapes/client', { allowed: [webVip, at('shapes/web-2', 8080)] });
      } finally {
        await applyText(lab, waypoint, 'delete');
      }
    }, []);
  });

  it('selector: the agents of the matching pods enforce it on every port', async () => {
    const spec = '  selector: { matchLabels: { app: web } }\n  action: DENY\n  rules: [{ from: [{ source: { principals: ["cluster.local/ns/shapes/sa/intruder"] } }] }]\n';
    await authz('shapes', 'deny-intruder', spec, async () => {
      const c = await condition('AuthorizationPolicy', 'shapes', 'deny-intruder', 'Enforced');
      assert.deepEqual([c.status, c.reason, c.message], ['True', 'NodeAgents', 'The node agents enforce it on every connection to the pods of namespace shapes labelled app=web, on every port: now pods web-1, web-2.']);
      await expectTraffic('shapes/intruder', { refused: [webVip, at('shapes/web-1', 8080), at('shapes/web-1', 9090), at('shapes/web-2', 9090)], allowed: [at('shapes/other', 8080)] });
      await expectTraffic('shapes/client', { allowed: [webVip, at('shapes/web-1', 9090), at('shapes/web-2', 8080)] });
    });
  });

  it('namespace-wide: every pod of the namespace, on every port, and no other namespace', async () => {
    const spec = '  action: ALLOW\n  rules: [{ from: [{ source: { principals: ["cluster.local/ns/shapes/sa/client"] } }] }]\n';
    await authz('shapes', 'allow-client', spec, async () => {
      const c = await condition('AuthorizationPolicy', 'shapes', 'allow-client', 'Enforced');
      assert.deepEqual([c.status, c.reason, c.message], ['True', 'NodeAgents', 'Namespace-wide: the node agents enforce it on every connection to the pods of namespace shapes, on every port.']);
      await expectTraffic('shapes/intruder', { refused: [webVip, at('shapes/other', 8080), at('shapes/web-2', 9090)], allowed: [at('extra/echo', 8080)] });
      await expectTraffic('shapes/client', { allowed: [webVip, at('shapes/other', 8080), at('shapes/web-2', 9090)] });
      await expectTraffic('outside/outsider', { refused: [at('shapes/other', 8080)], allowed: [at('extra/echo', 8080)] });
    });
  });

  it('mesh-wide in the root namespace: every pod in the mesh, and none outside it', async () => {
    const spec = '  action: DENY\n  rules: [{ from: [{ source: { principals: ["cluster.local/ns/shapes/sa/intruder"] } }] }]\n';
    await authz('ambit-system', 'deny-intruder', spec, async () => {
      const c = await condition('AuthorizationPolicy', 'ambit-system', 'deny-intruder', 'Enforced');
      assert.deepEqual([c.status, c.reason], ['True', 'NodeAgents']);
      assert.match(c.message, /^Mesh-wide \(in the root namespace ambit-system, without a selector\): the node agents enforce it on every connection to every pod in the mesh, on every port\.$/);
      await expectTraffic('shapes/intruder', { refused: [at('extra/echo', 8080), at('shapes/other', 9090), webVip], allowed: [at('outside/outsider', 8080)] });
      await expectTraffic('shapes/client', { allowed: [at('extra/echo', 8080), at('shapes/other', 9090), webVip] });
    });
  });

  it('a policy in a namespace outside the mesh: enforced nowhere, and its status says so', async () => {
    // Sent to the node of the namespace's one pod, where it would apply once the namespace joins the mesh.
    const outsiderNode = st.pods.find((p) => p.namespace === 'outside' && p.name === 'outsider')!.node;
    await authz('outside', 'deny-all', '  action: DENY\n  rules: [{}]\n', async () => {
      const c = await condition('AuthorizationPolicy', 'outside', 'deny-all', 'Enforced');
      assert.deepEqual([c.status, c.reason], ['False', 'NotEnforced']);
      assert.match(c.message, /^Namespace outside is not in the mesh/);
      await expectTraffic('shapes/client', { allowed: [at('outside/outsider', 8080), at('outside/outsider', 9090)] });
    }, [outsiderNode]);
  });

  it('portLevelMtls: a STRICT port refuses plaintext from outside the mesh while a PERMISSIVE one admits it', async () => {
    const pa = (mode: string, port: number, portMode: string) =>
      `  selector: { matchLabels: { app: web } }\n  mtls: { mode: ${mode} }\n  portLevelMtls: { "${port}": { mode: ${portMode} } }\n`;
    await withPolicy('PeerAuthentication', 'shapes', 'web-ports', pa('PERMISSIVE', 8080, 'STRICT'), async () => {
      assert.equal((await condition('PeerAuthentication', 'shapes', 'web-ports', 'Accepted')).status, 'True');
      await expectTraffic('outside/outsider', { refused: [webVip, at('shapes/web-1', 8080), at('shapes/web-2', 8080)], allowed: [at('shapes/web-1', 9090), at('shapes/web-2', 9090)] });
      await expectTraffic('shapes/client', { allowed: [webVip, webVip, at('shapes/web-1', 8080), at('shapes/web-2', 8080)] });
    });
    // The other way round: STRICT for the pod, PERMISSIVE on one port.
    await withPolicy('PeerAuthentication', 'shapes', 'web-ports', pa('STRICT', 8080, 'PERMISSIVE'), async () => {
      await expectTraffic('outside/outsider', { allowed: [webVip, at('shapes/web-1', 8080), at('shapes/web-2', 8080)], refused: [at('shapes/web-1', 9090), at('shapes/web-2', 9090)] });
    });
    await expectTraffic('outside/outsider', { allowed: [at('shapes/web-1', 8080), at('shapes/web-2', 9090)] });
  });
});
