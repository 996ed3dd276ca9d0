// The e2e portal's embedded kubesim, reached as kubectl reaches it (its kubeconfig): to put the demo
// fleet in the states the pages must show (more clusters, a node NotReady, a pod crashing).
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';

/** The port of the portal with the development sign-in (the default project's baseURL). */
export const E2E_PORT = Number(process.env.PORTOLAN_E2E_PORT ?? 3107);

/** Where that portal writes its embedded kubesim's kubeconfig (`--kubesim-kubeconfig`). */
export function kubesimKubeconfig(port: number): string {
  return path.join(os.tmpdir(), `portolan-e2e-kubesim-${port}.yaml`);
}

const CAPI = '/apis/cluster.x-k8s.io/v1beta2/namespaces';

export class Kubesim {
  private constructor(
    readonly server: string,
    private readonly token: string,
    private readonly ca: string,
  ) {}

  /** The kubesim of the portal on `port`, from the kubeconfig it wrote. */
  static ofPortal(port = E2E_PORT): Kubesim {
    const text = fs.readFileSync(kubesimKubeconfig(port), 'utf8');
    const server = /server:\s*"?([^"\s]+)"?/.exec(text)?.[1];
    const token = /token:\s*"?([^"\s]+)"?/.exec(text)?.[1];
    const ca = /certificate-authority-data:\s*"?([^"\s]+)"?/.exec(text)?.[1];
    if (!server || !token || !ca) throw new Error(`no server, token or CA in ${kubesimKubeconfig(port)}`);
    return new Kubesim(server, token, Buffer.from(ca, 'base64').toString('utf8'));
  }

  /** A JSON API call over TLS, trusting kubesim's CA only; fails the test on anything but 2xx
   *  (409 allowed on POST, where "exists" is fine). */
  async call(method: string, apiPath: string, body?: unknown, contentType = 'application/json'): Promise<any> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = https.request(
        `${this.server}${apiPath}`,
        {
          method,
          ca: this.ca,
          headers: { Authorization: `Bearer ${this.token}`, 'Content-Type': contentType },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
    if (status === 409 && method === 'POST') return undefined;
    if (status < 200 || status > 299) throw new Error(`${method} ${apiPath}: ${status} ${text}`);
    return JSON.parse(text);
  }

  /** `n` paused copies of a demo cluster named `<prefix>-000` … (paused: nothing is simulated). */
  async createPausedClusters(prefix: string, n: number) {
    const template = await this.call('GET', `${CAPI}/default/clusters/staging-eus`);
    for (let i = 0; i < n; i++) {
      const name = `${prefix}-${String(i).padStart(3, '0')}`;
      await this.call('POST', `${CAPI}/default/clusters`, {
        apiVersion: 'cluster.x-k8s.io/v1beta2',
        kind: 'Cluster',
        metadata: { name, namespace: 'default', labels: { 'portolan.dev/region': 'eastus' } },
        spec: { ...template.spec, paused: true },
      });
    }
  }

  /** A running copy of a demo cluster named `name`, with a user pool `work` of `workNodes` beside
   *  its system pool (kubesim provisions it: its nodes join one by one). */
  async createCluster(name: string, workNodes: number) {
    const template = await this.call('GET', `${CAPI}/default/clusters/staging-eus`);
    const pools = template.spec.topology.workers.machineDeployments;
    const work = {
      ...pools[0],
      name: 'work',
      replicas: workNodes,
      metadata: {},
      variables: {
        overrides: [
          { name: 'vmSize', value: 'Standard_D2s_v5' },
          { name: 'poolMode', value: 'user' },
        ],
      },
    };
    await this.call('POST', `${CAPI}/default/clusters`, {
      apiVersion: 'cluster.x-k8s.io/v1beta2',
      kind: 'Cluster',
      metadata: { name, namespace: 'default', labels: { 'portolan.dev/region': 'eastus' } },
      spec: {
        ...template.spec,
        topology: { ...template.spec.topology, workers: { machineDeployments: [pools[0], work] } },
      },
    });
  }

  /** Sets the node count of pool `pool` of `cluster` in its topology, as kubectl would. */
  async setPoolReplicas(cluster: string, pool: string, replicas: number) {
    const c = await this.call('GET', `${CAPI}/default/clusters/${cluster}`);
    const index = c.spec.topology.workers.machineDeployments.findIndex((p: any) => p.name === pool);
    await this.call(
      'PATCH',
      `${CAPI}/default/clusters/${cluster}`,
      [{ op: 'replace', path: `/spec/topology/workers/machineDeployments/${index}/replicas`, value: replicas }],
      'application/json-patch+json',
    );
  }

  /** A PodDisruptionBudget in a workload cluster that allows no disruption of app `app`'s pods
   *  (minAvailable 100%), as a careful team would have one; retried until the cluster answers. */
  async addBlockingBudget(cluster: string, namespace: string, app: string) {
    await this.call('POST', `/clusters/default/${cluster}/apis/policy/v1/namespaces/${namespace}/poddisruptionbudgets`, {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: `${app}-pdb`, namespace },
      spec: { minAvailable: '100%', selector: { matchLabels: { app } } },
    });
  }

  /** Deletes a PodDisruptionBudget of a workload cluster. */
  async deleteBudget(cluster: string, namespace: string, name: string) {
    await this.call('DELETE', `/clusters/default/${cluster}/apis/policy/v1/namespaces/${namespace}/poddisruptionbudgets/${name}`);
  }

  /** Names of a workload cluster's nodes. */
  async nodes(cluster: string): Promise<string[]> {
    const list = await this.call('GET', `/clusters/default/${cluster}/api/v1/nodes`);
    return list.items.map((n: any) => n.metadata.name);
  }

  /** Sets (or with `null` removes) a label on a workload cluster's object. */
  async label(cluster: string, objectPath: string, key: string, value: string | null) {
    await this.call(
      'PATCH',
      `/clusters/default/${cluster}${objectPath}`,
      { metadata: { labels: { [key]: value } } },
      'application/merge-patch+json',
    );
  }

  /** A running pod of a workload cluster whose name starts with `prefix`. */
  async runningPod(cluster: string, namespace: string, prefix: string): Promise<string> {
    const list = await this.call('GET', `/clusters/default/${cluster}/api/v1/namespaces/${namespace}/pods`);
    const pod = list.items.find((p: any) => p.metadata.name.startsWith(prefix) && p.status?.phase === 'Running');
    if (!pod) throw new Error(`no running ${prefix} pod in ${cluster}/${namespace}`);
    return pod.metadata.name;
  }
}
