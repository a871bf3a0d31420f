// The site's configuration of the operator: resource names, SR-IOV networks, topology labels and ports. These
// differ from cluster to cluster (rdma/hca vs rdma/rdma_shared_device_a, intel.com vs nvidia.com SR-IOV pools),
// so none of them is a constant in the renderers. A bad file stops the operator at start with the key named.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { DEFAULT_SITE_POLICY, parseSitePolicy, type SitePolicy } from '../policy/site-policy.js';

export interface SriovNetwork {
  /** The Multus NetworkAttachmentDefinition: "name" (the pod's namespace) or "namespace/name". */
  networkAttachment: string;
  /** The device-plugin pool backing the network, requested once per attachment, e.g. intel.com/sriov_netdevice. */
  resourceName: string;
  /** Name of the interface in the pod; default net1, net2, ... in the order the job lists its networks. */
  interfaceName?: string;
}

export interface PortRange {
  min: number;
  max: number;
}

/** Auto: Native where the API server serves the Workload API's PodGroups, otherwise None. */
export type GangDefault = 'Auto' | 'Native' | 'Volcano' | 'SchedulerPlugins' | 'None';

export interface SchedulingConfig {
  /** The gang scheduler of jobs that do not name one (spec.scheduling.gang). */
  gang: GangDefault;
  /** The scheduler that places Volcano jobs' pods, and the queue of jobs that name none. */
  volcano: { schedulerName: string; queue: string };
  /** The scheduler-plugins scheduler with the Coscheduling plugin, and how long a gang may wait for its quorum. */
  schedulerPlugins: { schedulerName: string; scheduleTimeoutSeconds: number };
}

export interface ClusterConfig {
  gpuResourceName: string;
  rdmaResourceName: string;
  sriovNetworks: Record<string, SriovNetwork>;
  /** Topology domain name → node label key; "node" is used by oneWorkerPerNode, the rest by sameDomain. */
  topologyKeys: Record<string, string>;
  /** host network mode: each job's sshd port is picked from this range. */
  hostNetworkPortRange: PortRange;
  /** pod and sriov network modes: the sshd port inside the pod. */
  sshPort: number;
  /** Pods that request RDMA devices get the IPC_LOCK capability (pinning memory for verbs). */
  allowIpcLock: boolean;
  /** NCCL_* / UCX_* defaults of every job; a job's fabricEnv goes over them. Given in full, it replaces these. */
  defaultFabricEnv: Record<string, string>;
  /** The cluster's DNS domain, for the search path that lets short pod hostnames resolve. */
  clusterDomain: string;
  /** Who runs as whom, which host paths and pod settings jobs may use (src/policy/site-policy.ts). */
  sitePolicy: SitePolicy;
  /** Each job gets a NetworkPolicy admitting only its own pods (enforced only by a policy-enforcing network plugin). */
  networkPolicy: boolean;
  /** All-or-nothing placement of the workers (docs/scheduling.md). */
  scheduling: SchedulingConfig;
}

export const DEFAULT_CLUSTER_CONFIG: ClusterConfig = {
  gpuResourceName: 'nvidia.com/gpu',
  rdmaResourceName: 'rdma/hca',
  sriovNetworks: {},
  topologyKeys: { node: 'kubernetes.io/hostname', rack: 'topology.hpcjob.dev/rack' },
  hostNetworkPortRange: { min: 20000, max: 29999 },
  sshPort: 2222,
  allowIpcLock: true,
  defaultFabricEnv: { NCCL_DEBUG: 'WARN', UCX_WARN_UNUSED_ENV_VARS: 'n' },
  clusterDomain: 'cluster.local',
  sitePolicy: DEFAULT_SITE_POLICY,
  networkPolicy: true,
  scheduling: {
    gang: 'Auto',
    volcano: { schedulerName: 'volcano', queue: 'default' },
    schedulerPlugins: { schedulerName: 'scheduler-plugins-scheduler', scheduleTimeoutSeconds: 300 },
  },
};

const EXTENDED_RESOURCE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Linux interface names: at most 15 characters, no slash or blank.
const INTERFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

type Raw = Record<string, unknown>;

function fail(key: string, problem: string): never {
  throw new Error(`${key ? `config.${key}` : 'config'}: ${problem}`);
}

function isObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function object(value: unknown, key: string): Raw {
  if (!isObject(value)) fail(key, 'must be a mapping');
  return value;
}

function onlyKeys(value: Raw, allowed: string[], key: string): void {
  for (const k of Object.keys(value)) {
    if (!allowed.includes(k)) fail(key ? `${key}.${k}` : k, `unknown key (known: ${allowed.join(', ')})`);
  }
}

function matching(value: unknown, pattern: RegExp, key: string, what: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) fail(key, `must be ${what}, got ${JSON.stringify(value)}`);
  return value;
}

function port(value: unknown, key: string): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535) {
    fail(key, `must be a port number (1-65535), got ${JSON.stringify(value)}`);
  }
  return value as number;
}

function boolean(value: unknown, key: string): boolean {
  if (typeof value !== 'boolean') fail(key, 'must be true or false');
  return value;
}

function sriovNetwork(value: unknown, key: string): SriovNetwork {
  const raw = object(value, key);
  onlyKeys(raw, ['networkAttachment', 'resourceName', 'interfaceName'], key);
  const attachment = matching(raw.networkAttachment, /^.+$/, `${key}.networkAttachment`, '"name" or "namespace/name"');
  const parts = attachment.split('/');
  if (parts.length > 2 || !parts.every((p) => DNS_SUBDOMAIN.test(p))) {
    fail(`${key}.networkAttachment`, `must be "name" or "namespace/name", got ${JSON.stringify(attachment)}`);
  }
  const network: SriovNetwork = {
    networkAttachment: attachment,
    resourceName: matching(raw.resourceName, EXTENDED_RESOURCE, `${key}.resourceName`, 'an extended resource name'),
  };
  if (raw.interfaceName !== undefined) {
    network.interfaceName = matching(raw.interfaceName, INTERFACE_NAME, `${key}.interfaceName`, 'an interface name');
  }
  return network;
}

const KEYS = Object.keys(DEFAULT_CLUSTER_CONFIG) as (keyof ClusterConfig)[];

/** The configuration from a parsed file (any subset of the keys), over the defaults; throws naming a bad key. */
export function parseClusterConfig(input: unknown): ClusterConfig {
  if (input === undefined || input === null) return structuredClone(DEFAULT_CLUSTER_CONFIG);
  const raw = object(input, '');
  onlyKeys(raw, KEYS, '');
  const config = structuredClone(DEFAULT_CLUSTER_CONFIG);
  const has = (k: keyof ClusterConfig) => raw[k] !== undefined;

  for (const key of ['gpuResourceName', 'rdmaResourceName'] as const) {
    if (has(key)) config[key] = matching(raw[key], EXTENDED_RESOURCE, key, 'an extended resource name');
  }
  if (has('sriovNetworks')) {
    const networks = object(raw.sriovNetworks, 'sriovNetworks');
    config.sriovNetworks = Object.fromEntries(
      Object.entries(networks).map(([name, value]) => {
        matching(name, DNS_SUBDOMAIN, `sriovNetworks.${name}`, 'a lowercase DNS name (the key)');
        return [name, sriovNetwork(value, `sriovNetworks.${name}`)];
      }),
    );
  }
  if (has('topologyKeys')) {
    const keys = object(raw.topologyKeys, 'topologyKeys');
    for (const [domain, label] of Object.entries(keys)) {
      matching(domain, DNS_LABEL, `topologyKeys.${domain}`, 'a lowercase domain name (the key)');
      config.topologyKeys[domain] = matching(label, LABEL_KEY, `topologyKeys.${domain}`, 'a node label key');
    }
  }
  if (has('hostNetworkPortRange')) {
    const range = object(raw.hostNetworkPortRange, 'hostNetworkPortRange');
    onlyKeys(range, ['min', 'max'], 'hostNetworkPortRange');
    const min = range.min === undefined ? config.hostNetworkPortRange.min : port(range.min, 'hostNetworkPortRange.min');
    const max = range.max === undefined ? config.hostNetworkPortRange.max : port(range.max, 'hostNetworkPortRange.max');
    if (min > max) fail('hostNetworkPortRange.min', `must be <= max (${min} > ${max})`);
    config.hostNetworkPortRange = { min, max };
  }
  if (has('sshPort')) config.sshPort = port(raw.sshPort, 'sshPort');
  for (const key of ['allowIpcLock', 'networkPolicy'] as const) {
    if (has(key)) config[key] = boolean(raw[key], key);
  }
  if (has('defaultFabricEnv')) {
    const env = object(raw.defaultFabricEnv, 'defaultFabricEnv');
    config.defaultFabricEnv = Object.fromEntries(
      Object.entries(env).map(([name, value]) => {
        matching(name, ENV_NAME, `defaultFabricEnv.${name}`, 'an environment variable name (the key)');
        if (typeof value !== 'string') fail(`defaultFabricEnv.${name}`, 'must be a string (quote numbers)');
        return [name, value];
      }),
    );
  }
  if (has('clusterDomain')) {
    config.clusterDomain = matching(raw.clusterDomain, DNS_SUBDOMAIN, 'clusterDomain', 'a DNS domain');
  }
  if (has('sitePolicy')) config.sitePolicy = parseSitePolicy(raw.sitePolicy);
  if (has('scheduling')) config.scheduling = parseScheduling(raw.scheduling, config.scheduling);
  return config;
}

const GANG_CHOICES: readonly GangDefault[] = ['Auto', 'Native', 'Volcano', 'SchedulerPlugins', 'None'];

const schedulerName = (value: unknown, key: string): string => matching(value, DNS_SUBDOMAIN, key, 'a scheduler name');

function parseScheduling(value: unknown, defaults: SchedulingConfig): SchedulingConfig {
  const raw = object(value, 'scheduling');
  onlyKeys(raw, ['gang', 'volcano', 'schedulerPlugins'], 'scheduling');
  const result = structuredClone(defaults);
  if (raw.gang !== undefined) {
    if (!GANG_CHOICES.includes(raw.gang as GangDefault)) {
      fail('scheduling.gang', `must be one of ${GANG_CHOICES.join(', ')}, got ${JSON.stringify(raw.gang)}`);
    }
    result.gang = raw.gang as GangDefault;
  }
  if (raw.volcano !== undefined) {
    const volcano = object(raw.volcano, 'scheduling.volcano');
    onlyKeys(volcano, ['schedulerName', 'queue'], 'scheduling.volcano');
    if (volcano.schedulerName !== undefined) {
      result.volcano.schedulerName = schedulerName(volcano.schedulerName, 'scheduling.volcano.schedulerName');
    }
    if (volcano.queue !== undefined) {
      result.volcano.queue = matching(volcano.queue, DNS_SUBDOMAIN, 'scheduling.volcano.queue', 'a queue name');
    }
  }
  if (raw.schedulerPlugins !== undefined) {
    const plugins = object(raw.schedulerPlugins, 'scheduling.schedulerPlugins');
    onlyKeys(plugins, ['schedulerName', 'scheduleTimeoutSeconds'], 'scheduling.schedulerPlugins');
    if (plugins.schedulerName !== undefined) {
      result.schedulerPlugins.schedulerName = schedulerName(
        plugins.schedulerName,
        'scheduling.schedulerPlugins.schedulerName',
      );
    }
    const timeout = plugins.scheduleTimeoutSeconds;
    if (timeout !== undefined) {
      if (!Number.isInteger(timeout) || (timeout as number) < 1) {
        fail(
          'scheduling.schedulerPlugins.scheduleTimeoutSeconds',
          `must be a positive integer, got ${JSON.stringify(timeout)}`,
        );
      }
      result.schedulerPlugins.scheduleTimeoutSeconds = timeout as number;
    }
  }
  return result;
}

/** Reads the configuration from a YAML or JSON file; no path, or no file there, gives the defaults. */
export function loadClusterConfig(path?: string): ClusterConfig {
  if (!path) return parseClusterConfig(undefined);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return parseClusterConfig(undefined);
    throw err;
  }
  try {
    return parseClusterConfig(parse(text));
  } catch (err) {
    throw new Error(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * The sshd port of a host-network job, derived from its uid so every pass of the controller picks the same one.
 * Two jobs may draw the same port; they then cannot share a node, because the port is a hostPort the scheduler
 * enforces. (FNV-1a: a small, well-spread hash with no dependency.)
 */
export function hostPortForJob(jobUid: string, range: PortRange): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < jobUid.length; i++) {
    hash ^= jobUid.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return range.min + (hash % (range.max - range.min + 1));
}
