import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config/config.js';
import { PolicyEngine, type ReloadResult } from '../policy/loader/engine.js';
import { PolicyLoadError } from '../policy/loader/load.js';
import type { PolicySet } from '../policy/schema.js';
import { defaultTagMutationSettings, type TagMutationSettings } from '../tags/mutation-policy.js';
import { tagMutationSettingsFrom } from '../tags/policy-settings.js';
import { closeWithApp } from './on-close.js';

/** What the console shows of the policies: the set in force and how the last load went. */
export interface PolicyStatus {
  set: PolicySet | undefined;
  lastLoad:
    | { at: string; trigger: 'start' | 'reload'; ok: boolean; message?: string | undefined; version: string }
    | undefined;
}

/** The policy set in force (reloaded when its files change), and what its last load said. */
export interface Policies {
  /** Undefined when policies are off (PULLGATE_POLICY_ENABLED=false). */
  engine: PolicyEngine | undefined;
  status: PolicyStatus;
  /** The tag-mutation settings of the set in force (recomputed only when the version changes). */
  tagSettings(): TagMutationSettings;
}

declare module 'fastify' {
  interface FastifyInstance {
    policies: Policies;
  }
}

export const policiesPlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    const status: PolicyStatus = { set: undefined, lastLoad: undefined };
    const engine = config.policyEnabled ? await loadEngine(app, config, status) : undefined;
    let tagSettings = { version: '', settings: defaultTagMutationSettings };
    app.decorate('policies', {
      engine,
      status,
      tagSettings: () => {
        if (engine === undefined) return defaultTagMutationSettings;
        if (tagSettings.version !== engine.version) {
          tagSettings = { version: engine.version, settings: tagMutationSettingsFrom(engine.current) };
        }
        return tagSettings.settings;
      },
    });
  },
  { name: 'policies', dependencies: ['audit', 'metrics'] },
);

/** Every load, at start and on reload, is on the record; a start with an invalid set stops pullgate. */
async function loadEngine(app: FastifyInstance, config: Config, status: PolicyStatus): Promise<PolicyEngine> {
  const { metrics } = app;
  const audit = app.audit.log;
  const recordLoad = (trigger: 'start' | 'reload', result: ReloadResult) => {
    status.lastLoad = {
      at: new Date().toISOString(),
      trigger,
      ok: result.ok,
      version: result.version,
      message: result.ok ? undefined : result.message,
    };
    return audit
      .append({
        type: 'policy-load',
        trigger,
        outcome: result.ok ? 'loaded' : 'failed',
        policy: { name: 'policies', version: result.version },
        source: config.policyDir,
        ...(result.ok ? {} : { error: result.message.slice(0, 2000) }),
      })
      .catch((err: unknown) => app.log.error({ err }, 'failed to record a policy load'));
  };
  let engine: PolicyEngine;
  try {
    engine = await PolicyEngine.create({
      dir: config.policyDir,
      logger: app.log,
      watch: true,
      allowEmpty: config.policyAllowEmpty,
      onReload: (result) => {
        metrics.policyReloads.inc({ outcome: result.ok ? 'loaded' : 'failed' });
        metrics.policyReloadHealthy.set(result.ok ? 1 : 0);
        void recordLoad('reload', result);
      },
    });
  } catch (err) {
    if (err instanceof PolicyLoadError) {
      await audit
        .append({
          type: 'policy-load',
          trigger: 'start',
          outcome: 'failed',
          source: config.policyDir,
          error: err.message.slice(0, 2000),
        })
        .catch(() => undefined);
    }
    throw err;
  }
  closeWithApp(app, 'policy engine', () => engine.close());
  metrics.policyReloads.inc({ outcome: 'loaded' });
  metrics.policyReloadHealthy.set(1);
  await recordLoad('start', {
    ok: true,
    version: engine.version,
    previous: '',
    changed: true,
    policies: engine.current.policies.length,
  });
  return engine;
}
