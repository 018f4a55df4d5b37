// Media types from the OCI image spec (media-types.md) and Docker's image manifest v2 schema 2.
export const mediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
} as const;

/** What a proxy asks for when the client sent no Accept: everything a modern client understands. */
export const defaultManifestAccept = [
  mediaType.ociIndex,
  mediaType.ociManifest,
  mediaType.dockerManifestList,
  mediaType.dockerManifest,
].join(', ');

export function isIndexMediaType(type: string | undefined): boolean {
  return type === mediaType.ociIndex || type === mediaType.dockerManifestList;
}

export function isImageManifestMediaType(type: string | undefined): boolean {
  return type === mediaType.ociManifest || type === mediaType.dockerManifest;
}

export function isImageConfigMediaType(type: string | undefined): boolean {
  return type === mediaType.ociConfig || type === mediaType.dockerConfig;
}

/** Strips parameters (`; charset=...`) and case so Content-Type values compare. */
export function baseMediaType(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const base = contentType.split(';', 1)[0]?.trim().toLowerCase();
  return base === '' ? undefined : base;
}
