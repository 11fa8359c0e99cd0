import { AppError } from '../errors.ts';
import type { ShardFiles, ShardMember } from './shard-files.ts';

/**
 * Where the deploy gets the code of the code-repository packages a pipeline runs: each package's
 * files, keyed `<package>/<path>` (relative to the shard project's root, where they are written).
 * A package it does not hold simply has no files in the answer.
 */
export interface PackageSource {
  packageFiles(packages: string[]): Promise<Record<string, string>>;
}

/**
 * `member` with the files of every package it runs, fetched from `source`; `member` itself when it
 * runs none. Compile stays pure and never reads the store: as with dbt manifests
 * (dbt-manifests.ts), the deploy adds them before the shard is staged. A package the source does
 * not hold fails the deploy, naming the block types that need it, before anything is written.
 */
export async function withPackages<T extends ShardMember>(member: T, source: PackageSource): Promise<T & { packageFiles?: ShardFiles }> {
  const packages = member.packages ?? [];
  if (packages.length === 0) return member;
  const fetched = await source.packageFiles(packages);
  const packageFiles: ShardFiles = {};
  for (const [path, content] of Object.entries(fetched)) {
    const [pkg, ...rest] = path.split('/');
    // The store's paths go onto disk under the shard: only inside an asked package's folder.
    if (!packages.includes(pkg!) || rest.length === 0 || rest.some((part) => part === '' || part === '.' || part === '..')) {
      throw new Error(`PackageSource answered ${JSON.stringify(path)}, which is not a file inside one of the packages asked for (${packages.join(', ')})`);
    }
    packageFiles[path] = content;
  }
  const missing = packages.filter((pkg) => !Object.keys(packageFiles).some((path) => path.startsWith(`${pkg}/`)));
  if (missing.length) {
    const users = blockTypesByPackage(member.files['pipeline.json']);
    const what = missing.map((pkg) => `package ${pkg} (block type ${(users.get(pkg) ?? ['?']).join(', ')})`).join('; ');
    throw new AppError('invalid:deployment', `The code of ${what} is not stored here, so this version cannot be deployed; nothing was changed.`, {
      hint: 'Compile the code repository again (POST /dagster/compile/) so that its commit is stored, or edit the pipeline to use a version of the block type that is, then deploy again.',
    });
  }
  return { ...member, packageFiles };
}

/** Package → the repository block types (refs) of a pipeline.json that run it, from its repo_block_types. */
function blockTypesByPackage(pipelineJson: string | undefined): Map<string, string[]> {
  const types = pipelineJson ? ((JSON.parse(pipelineJson) as { repo_block_types?: Record<string, { callable: string }> }).repo_block_types ?? {}) : {};
  const users = new Map<string, string[]>();
  for (const [ref, { callable }] of Object.entries(types)) {
    const pkg = callable.split('.')[0]!;
    users.set(pkg, [...(users.get(pkg) ?? []), ref]);
  }
  return users;
}
