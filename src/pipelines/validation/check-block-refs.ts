import type { BlockRef } from '../../catalog/config-validator.ts';
import type { CheckInput, Findings } from './report.ts';

/**
 * A config value that names blocks (its schema says so with "x-block-ref") must name a block of
 * this pipeline, of a category the field takes: a sensor watching the checks of "orders_checks"
 * is no use when there is no such block, or when it is an extract.
 */
export function checkBlockRefs(refs: BlockRef[], { typeOf, indexOf }: CheckInput, findings: Findings): void {
  for (const ref of refs) {
    const wanted = ref.categories.join(' or ');
    const fitting = [...indexOf.keys()].filter((id) => {
      const category = typeOf.get(id)?.category;
      return category !== undefined && ref.categories.includes(category);
    });
    const hint = fitting.length
      ? `Name one of this pipeline's ${wanted} blocks: ${fitting.join(', ')}.`
      : `This pipeline has no ${wanted} block: add one (search the catalog with category "${ref.categories[0]}") and name its id here.`;
    if (!indexOf.has(ref.value)) {
      findings.errors.push({ code: 'unknown_block', path: ref.path, message: `"${ref.value}" names no block of this pipeline`, hint });
      continue;
    }
    const type = typeOf.get(ref.value);
    if (type && !ref.categories.includes(type.category)) {
      findings.errors.push({
        code: 'wrong_block_category',
        path: ref.path,
        message: `block "${ref.value}" is a ${type.category} block (${type.ref}), and this field takes ${wanted} blocks`,
        hint,
      });
    }
  }
}
