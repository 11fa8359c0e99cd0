import { describe, expect, it } from 'vitest';
import { compilePipeline } from '../../src/compile/compile-pipeline.ts';
import { withPackages, type PackageSource } from '../../src/dagster/repo-packages.ts';
import { PIPELINE, REPO_PACKAGE_NAME, flagshipSpec, repoBlockType, repoSpec, typesFor, typesWith } from '../compile/fixtures.ts';

const answering = (files: Record<string, string>): PackageSource & { asked: string[][] } => ({
  asked: [],
  async packageFiles(packages) {
    this.asked.push(packages);
    return files;
  },
});

describe('a compiled pipeline\'s packages, fetched for its shard', () => {
  const type = repoBlockType();
  const spec = repoSpec(type);
  const compiled = compilePipeline(PIPELINE, spec, typesWith(spec, [type]));

  it('adds the files of the packages it runs, and asks nothing for a pipeline that runs none', async () => {
    const source = answering({ [`${REPO_PACKAGE_NAME}/greeting.py`]: 'x = 1\n' });
    expect((await withPackages(compiled, source)).packageFiles).toEqual({ [`${REPO_PACKAGE_NAME}/greeting.py`]: 'x = 1\n' });
    const plain = compilePipeline(PIPELINE, flagshipSpec(), typesFor(flagshipSpec()));
    expect(await withPackages(plain, source)).toBe(plain);
    expect(source.asked).toEqual([[REPO_PACKAGE_NAME]]);
  });

  it('refuses a package the source does not hold, naming it and the block type that runs it', async () => {
    await expect(withPackages(compiled, answering({}))).rejects.toMatchObject({
      code: 'invalid:deployment',
      message: expect.stringContaining(`package ${REPO_PACKAGE_NAME} (block type ${type.ref})`),
    });
  });

  it('refuses a path outside the packages asked for, since it is written under the shard', async () => {
    for (const path of [`${REPO_PACKAGE_NAME}/../pyproject.toml`, 'pyproject.toml', 'constellation_repo_other_aaaaaaaaaaaa/x.py', `${REPO_PACKAGE_NAME}/`]) {
      await expect(withPackages(compiled, answering({ [`${REPO_PACKAGE_NAME}/greeting.py`]: '', [path]: '' }))).rejects.toThrow('not a file inside one of the packages asked for');
    }
  });
});
