import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { type ValidationError, validate } from 'class-validator';
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

/**
 * Validates GraphQL input objects with their class-validator rules; the first problem becomes
 * BAD_USER_INPUT naming the field (e.g. `input.name: must be 1 to 200 characters`).
 */
@Injectable()
export class InputValidationPipe implements PipeTransform {
  async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const { metatype } = metadata;
    if (PLAIN.has(metatype) || value === null || value === undefined || typeof value !== 'object') return value;
    const instance = plainToInstance(metatype as new () => object, value);
    const errors = await validate(instance, { forbidUnknownValues: false });
    const problem = firstProblem(errors, metadata.data ?? 'input');
    if (problem) throw CordonException.badInput(problem.field, problem.reason);
    return instance;
  }
}
