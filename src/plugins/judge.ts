import fp from 'fastify-plugin';
import type { Config } from '../config/config.js';
import { ConfigScreen } from '../pull/config-screen.js';
import { PolicyGate } from '../pull/judge-manifest.js';
import { pullFactsSource } from '../pull/pull-facts-source.js';
import { allowAll, type ManifestGate } from '../pull/verdict.js';
import { ConfigAllowanceStore } from '../store/config-allowances.js';
import { TagStore } from '../store/index.js';
import { closeWithApp } from './on-close.js';

/** What judges a pull: the gate for manifests, and the screen for blobs that may be image configs. */
export interface Judge {
  gate: ManifestGate;
  screen: ConfigScreen;
}

declare module 'fastify' {
  interface FastifyInstance {
    judge: Judge;
  }
}

export interface JudgePluginOptions {
  config: Config;
  /** Judge manifests with this gate instead of the policy engine (tests). */
  gate?: ManifestGate;
}

export const judgePlugin = fp<JudgePluginOptions>(
  async (app, { config, gate: override }) => {
    const { engine } = app.policies;
    const { manifests, configs } = app.caches;
    const tags = new TagStore(app.store.db);
    const screen = new ConfigScreen({
      policies: () => engine?.current,
      allowances: new ConfigAllowanceStore(app.store.db),
      onError: (err, context) => app.log.warn({ err, context }, 'failed to use config allowances'),
    });
    let gate: ManifestGate = override ?? allowAll;
    if (override === undefined && engine !== undefined) {
      const policyGate = new PolicyGate(engine, {
        manifests,
        configs,
        now: () => new Date(),
        allowConfig: (route, digest, client, version) => screen.allow(route, digest, client, version),
        pullFacts: pullFactsSource({
          router: app.upstreams.router,
          manifests,
          tags: () => tags,
        }),
        denyOnHead: config.denyOnHead,
      });
      closeWithApp(app, 'manifest gate', () => policyGate.close());
      gate = policyGate;
    }
    app.decorate('judge', { gate, screen });
  },
  { name: 'judge', dependencies: ['policies', 'caches', 'store', 'upstreams'] },
);
