import { parse as parseJsonAst } from '@humanwhocodes/momoa';

type AstNode = { type: string; members?: { name: { value: string }; value: AstNode }[]; elements?: { value: AstNode }[] };

/** The first member name that appears twice in one object, anywhere in the document. */
function duplicateMember(node: AstNode): string | undefined {
  if (node.type === 'Object' && node.members) {
    const seen = new Set<string>();
    for (const member of node.members) {
      if (seen.has(member.name.value)) return member.name.value;
      seen.add(member.name.value);
      const inner = duplicateMember(member.value);
      if (inner !== undefined) return inner;
    }
  }
  if (node.type === 'Array' && node.elements) {
    for (const element of node.elements) {
      const inner = duplicateMember(element.value);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

export class StrictJsonError extends Error {}

/**
 * JSON.parse, refusing duplicate member names: `{"tlp":"CLEAR","tlp":"RED"}` means RED to
 * JSON.parse and CLEAR to other parsers, so two verifiers of one signed document could disagree.
 */
export function parseStrictJson(text: string): unknown {
  let ast: { body: AstNode };
  try {
    ast = parseJsonAst(text) as unknown as { body: AstNode };
  } catch {
    throw new StrictJsonError('not valid JSON');
  }
  const duplicate = duplicateMember(ast.body);
  if (duplicate !== undefined) throw new StrictJsonError(`member "${duplicate.slice(0, 40)}" appears twice in one object`);
  return JSON.parse(text);
}
