import { Args, Context, Mutation, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { Roles, Authenticated } from '../../common/access.decorator.js';
import { type Caller, CurrentCaller } from '../../common/caller.js';
import { CordonException } from '../../common/cordon.exception.js';
import { Role } from '../../common/roles.js';
import { IndicatorObject, StatementObject } from '../indicators/dto/indicator.object.js';
import { IndicatorsService } from '../indicators/indicators.service.js';
import { SubmitOutcomeObject, SubmitResultObject } from './dto/submit.object.js';
import { type SubmitItemOutcome, StatementsService } from './statements.service.js';

function toResult(outcome: Extract<SubmitItemOutcome, { ok: true }>): SubmitResultObject {
  return Object.assign(new SubmitResultObject(), { receipt: outcome.receipt, indicatorId: outcome.indicatorId, statementId: outcome.statementId });
}

@Resolver()
export class StatementsResolver {
  constructor(private readonly statements: StatementsService) {}

  @Mutation(() => SubmitResultObject, { description: 'Submits one signed statement (SPEC 4); a refusal’s extensions.code says which check failed.' })
  @Roles(Role.CONTRIBUTOR)
  async submitStatement(@CurrentCaller() caller: Caller, @Args('jws') jws: string): Promise<SubmitResultObject> {
    const [outcome] = await this.statements.submit(caller, [jws]);
    if (!outcome.ok) throw new CordonException(outcome.code, outcome.error);
    return toResult(outcome);
  }

  @Mutation(() => [SubmitOutcomeObject], { description: 'Submits many statements; one outcome per item, in input order.' })
  @Roles(Role.CONTRIBUTOR)
  async submitStatements(@CurrentCaller() caller: Caller, @Args('jws', { type: () => [String] }) jws: string[]): Promise<SubmitOutcomeObject[]> {
    const outcomes = await this.statements.submit(caller, jws);
    return outcomes.map((o) =>
      Object.assign(new SubmitOutcomeObject(), o.ok ? { ok: true, code: null, error: null, result: toResult(o) } : { ok: false, code: o.code, error: o.error, result: null }),
    );
  }
}

@Resolver(() => SubmitResultObject)
export class SubmitResultResolver {
  constructor(private readonly indicators: IndicatorsService) {}

  @ResolveField(() => IndicatorObject)
  @Authenticated()
  async indicator(@CurrentCaller() caller: Caller, @Context('req') req: object, @Parent() result: SubmitResultObject): Promise<IndicatorObject> {
    const view = await this.indicators.get(req, caller, result.indicatorId);
    if (!view) throw CordonException.notFound('indicator');
    return IndicatorObject.from(view);
  }

  @ResolveField(() => StatementObject)
  @Authenticated()
  async statement(@CurrentCaller() caller: Caller, @Context('req') req: object, @Parent() result: SubmitResultObject): Promise<StatementObject> {
    const row = await this.indicators.statement(req, caller, result.statementId);
    if (!row) throw CordonException.notFound('statement');
    return StatementObject.from(row);
  }
}
