import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, type ValidationError, validate } from 'class-validator';
import { CordonException } from './cordon.exception.js';

const PLAIN = new Set<unknown>([String, Boolean, Number, Array, Object, undefined]);

function firstProblem(errors: ValidationError[], prefix: string): { field: string; reason: string } | undefined {
  for (const error of errors) {
    const field = `${prefix}.${error.property}`;
    const reason = error.constraints && Object.values(error.constraints)[0];
    if (reason) return { field, reason: reason.replace(new RegExp(`^${error.property}\\s+`), '') };
    const nested = firstProblem(error.children ?? [], field);
    if (nested) return nested;
  }
  return undefined;
}

/** Member names that reach object prototypes (and trip class-transformer): refused anywhere in an input. */
const FORBIDDEN_MEMBERS = new Set(['__proto__', 'constructor', 'prototype']);

function forbiddenMember(value: unknown, path: string, depth = 0): string | undefined {
  if (value === null || typeof value !== 'object' || depth > 32) return undefined;
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_MEMBERS.has(key)) return `${path}.${key}`;
    const inner = forbiddenMember((value as Record<string, unknown>)[key], Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`, depth + 1);
    if (inner) return inner;
  }
  return undefined;
}

/** Whether class-validator has any rule for the class (remembered per class). */
const hasRules = new Map<unknown, boolean>();
function rulesFor(metatype: unknown): boolean {
  let has = hasRules.get(metatype);
  if (has === undefined) {
    has = getMetadataStorage().getTargetValidationMetadatas(metatype as new () => object, '', true, false).length > 0;
    hasRules.set(metatype, has);
  }
  return has;
}

/**
 * Validates GraphQL input objects with their class-validator rules; the first problem becomes
 * BAD_USER_INPUT naming the field (e.g. `input.name: must be 1 to 200 characters`).
 */
@Injectable()
export class InputValidationPipe implements PipeTransform {
  async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const { metatype } = metadata;
    if (PLAIN.has(metatype) || value === null || value === undefined || typeof value !== 'object') return value;
    const forbidden = forbiddenMember(value, metadata.data ?? 'input');
    if (forbidden) throw CordonException.badInput(forbidden, 'this member name is not allowed');
    // An input type without rules (ScreenInput: its service checks each value) passes as GraphQL
    // coerced it: no instance to build, nothing to validate — one less step per screening call.
    if (!rulesFor(metatype)) return value;
    const instance = plainToInstance(metatype as new () => object, value);
    const errors = await validate(instance, { forbidUnknownValues: false });
    const problem = firstProblem(errors, metadata.data ?? 'input');
    if (problem) throw CordonException.badInput(problem.field, problem.reason);
    return instance;
  }
}
