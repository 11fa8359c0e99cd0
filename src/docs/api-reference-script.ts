/**
 * The script the /docs page runs (Scalar's standalone bundle): its version, for a URL browsers may
 * cache for good, and a way to read it; or what is missing. Found by scalar-bundle.ts on Node;
 * kept apart from it so that the app does not import the file system.
 */
export type ApiReferenceScript = { version: string; read(): Promise<Uint8Array<ArrayBuffer>> } | { missing: string };

export const SCALAR_PACKAGE = '@scalar/api-reference';

/** What a runtime that was given no script lacks. */
export const NO_API_REFERENCE_SCRIPT: ApiReferenceScript = { missing: `the package ${SCALAR_PACKAGE}` };
