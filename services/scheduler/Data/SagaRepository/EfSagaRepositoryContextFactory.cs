using MassTransit;
using MassTransit.Saga;
using Microsoft.EntityFrameworkCore;

namespace Bus.Scheduler.Data.SagaRepository;

/// <summary>
/// A MassTransit saga repository on EF Core with optimistic concurrency. We write it because the NuGet feed we build
/// from does not serve MassTransit.EntityFrameworkCore (only MassTransit and its RabbitMQ transport). It keeps the
/// contract MassTransit's own
/// repositories keep:
/// <list type="bullet">
/// <item>two messages racing to create the same saga end in one row: the loser's insert hits the primary key
/// and throws <see cref="ConcurrencyException"/>, and its retry finds the winner's row;</item>
/// <item>an update that lost a race (the row's <see cref="ISagaVersion.Version"/> moved on) changes nothing and throws
/// <see cref="ConcurrencyException"/>, which the endpoint's retry policy handles by reloading.</item>
/// </list>
/// Each message gets its own short-lived DbContext from a pool. Every <see cref="ISagaWriteObserver"/> registered is
/// told of each committed write.
/// </summary>
public sealed class EfSagaRepositoryContextFactory<TSaga, TDbContext>(
    IDbContextFactory<TDbContext> dbContexts,
    ISagaConsumeContextFactory<TDbContext, TSaga> consumeContexts,
    IEnumerable<ISagaWriteObserver> writeObservers) :
    ISagaRepositoryContextFactory<TSaga>,
    IQuerySagaRepositoryContextFactory<TSaga>,
    ILoadSagaRepositoryContextFactory<TSaga>
    where TSaga : class, ISagaVersion
    where TDbContext : DbContext
{
    readonly ISagaWriteObserver[] _writeObservers = writeObservers.ToArray();

    public async Task Send<T>(ConsumeContext<T> context, IPipe<SagaRepositoryContext<TSaga, T>> next)
        where T : class
    {
        await using var db = await dbContexts.CreateDbContextAsync(context.CancellationToken);
        await next.Send(new EfSagaRepositoryContext<TSaga, T, TDbContext>(db, context, consumeContexts, _writeObservers));
    }

    public async Task SendQuery<T>(ConsumeContext<T> context, ISagaQuery<TSaga> query, IPipe<SagaRepositoryQueryContext<TSaga, T>> next)
        where T : class
    {
        await using var db = await dbContexts.CreateDbContextAsync(context.CancellationToken);
        var instances = await db.Set<TSaga>().Where(query.FilterExpression).ToListAsync(context.CancellationToken);
        var repositoryContext = new EfSagaRepositoryContext<TSaga, T, TDbContext>(db, context, consumeContexts, _writeObservers);
        await next.Send(new LoadedSagaRepositoryQueryContext<TSaga, T>(repositoryContext, instances));
    }

    public Task<T> Execute<T>(Func<LoadSagaRepositoryContext<TSaga>, Task<T>> asyncMethod, CancellationToken cancellationToken = default)
        where T : class => ExecuteReadOnly(asyncMethod, cancellationToken);

    public Task<T> Execute<T>(Func<QuerySagaRepositoryContext<TSaga>, Task<T>> asyncMethod, CancellationToken cancellationToken = default)
        where T : class => ExecuteReadOnly(asyncMethod, cancellationToken);

    async Task<T> ExecuteReadOnly<T>(Func<ReadOnlySagaContext, Task<T>> asyncMethod, CancellationToken cancellationToken)
    {
        await using var db = await dbContexts.CreateDbContextAsync(cancellationToken);
        return await asyncMethod(new ReadOnlySagaContext(db, cancellationToken));
    }

    public void Probe(ProbeContext context) => context.Add("persistence", "postgresql (ef core, optimistic)");

    /// <summary>Loads and queries sagas without tracking, for <c>ILoadSagaRepository</c> and <c>IQuerySagaRepository</c>.</summary>
    sealed class ReadOnlySagaContext(TDbContext db, CancellationToken cancellationToken) :
        MassTransit.Middleware.BasePipeContext(cancellationToken),
        LoadSagaRepositoryContext<TSaga>,
        QuerySagaRepositoryContext<TSaga>
    {
        public async Task<TSaga> Load(Guid correlationId) =>
            (await db.Set<TSaga>().AsNoTracking().SingleOrDefaultAsync(s => s.CorrelationId == correlationId, CancellationToken))!;

        public async Task<SagaRepositoryQueryContext<TSaga>> Query(ISagaQuery<TSaga> query, CancellationToken cancellationToken = default)
        {
            var instances = await db.Set<TSaga>().AsNoTracking().Where(query.FilterExpression).ToListAsync(cancellationToken);
            return new LoadedSagaRepositoryQueryContext<TSaga>(this, instances);
        }
    }
}
