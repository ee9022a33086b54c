import 'reflect-metadata';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Args, Field, GraphQLModule, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';

/**
 * The second reference point: a bare Nest + Apollo resolver running the same lookup as
 * the raw SQL baseline, with nothing of Cordon's (no authentication, canonicalisation, audit
 * event, visibility, one result per input, limits or metrics): what the framework alone costs on
 * this machine. Run by the screening bench in its own process (as the service is), with the
 * same node flags, in production mode, on the bench's seeded database:
 * `PORT=… DATABASE_URL=… node dist/bench/bare-server.js`.
 */
process.env.NODE_ENV ??= 'production';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });

@ObjectType()
class BareHit {
  @Field() id!: string;
  @Field() fingerprint!: string;
  @Field() status!: string;
}

@Resolver()
class BareResolver {
  @Query(() => [BareHit])
  async lookup(@Args('fingerprints', { type: () => [String] }) fingerprints: string[]): Promise<BareHit[]> {
    return (await pool.query("SELECT id, fingerprint, 'ACTIVE' AS status FROM indicator WHERE fingerprint = ANY($1)", [fingerprints])).rows;
  }

  @Query(() => BareHit, { nullable: true })
  async lookupOne(@Args('fingerprint') fingerprint: string): Promise<BareHit | null> {
    return (await pool.query("SELECT id, fingerprint, 'ACTIVE' AS status FROM indicator WHERE fingerprint = $1", [fingerprint])).rows[0] ?? null;
  }
}

@Controller()
class ReadyController {
  @Get('ready')
  ready(): string {
    return 'ok';
  }
}

@Module({
  imports: [GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true, playground: false })],
  controllers: [ReadyController],
  providers: [BareResolver],
})
class BareModule {}

const app = await NestFactory.create<NestFastifyApplication>(BareModule, new FastifyAdapter({ bodyLimit: 16 * 1024 * 1024 }), { logger: false });
await app.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => pool.end())
    .then(() => process.exit(0));
});
