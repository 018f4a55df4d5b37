import { fuzzHttpSurface } from './http-surface.js';

// The whole HTTP surface, anonymous pulls allowed (the default): see http-surface.ts for the properties.
fuzzHttpSurface({ label: 'anonymous' });
