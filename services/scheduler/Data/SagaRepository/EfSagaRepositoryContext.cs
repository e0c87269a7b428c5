using MassTransit;
using MassTransit.Context;
using MassTransit.Saga;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Bus.Scheduler.Data.SagaRepository;

/// <summary>
/// The repository operations for one message. Each write is its own <c>SaveChanges</c>, so it commits on its own;
/// MassTransit calls at most one of Save, Update or Delete per message.
/// </summary>
sealed class EfSagaRepositoryContext<TSaga, TMessage, TDbContext> :
    ConsumeContextScope<TMessage>,
    SagaRepositoryContext<TSaga, TMessage>
    where TSaga : class, ISagaVersion
    where TMessage : class
    where TDbContext : DbContext
{
    readonly TDbContext db;
    readonly ConsumeContext<TMessage> context;
    readonly ISagaConsumeContextFactory<TDbContext, TSaga> factory;
    readonly IReadOnlyList<ISagaWriteObserver> writeObservers;

    public EfSagaRepositoryContext(TDbContext db, ConsumeContext<TMessage> context, ISagaConsumeContextFactory<TDbContext, TSaga> factory,
        IReadOnlyList<ISagaWriteObserver> writeObservers)
        : base(context, db)
    {
        this.db = db;
        this.context = context;
        this.factory = factory;
        this.writeObservers = writeObservers;
    }

    DbSet<TSaga> Sagas => db.Set<TSaga>();

    public Task<SagaConsumeContext<TSaga, T>> CreateSagaConsumeContext<T>(ConsumeContext<T> consumeContext, TSaga instance, SagaConsumeContextMode mode)
        where T : class => factory.CreateSagaConsumeContext(db, consumeContext, instance, mode);

    /// <summary>A new saga, not written yet: <see cref="Save"/> inserts it once the state machine has run.</summary>
    public Task<SagaConsumeContext<TSaga, TMessage>> Add(TSaga instance) =>
        factory.CreateSagaConsumeContext(db, context, instance, SagaConsumeContextMode.Add);

    /// <summary>Inserts before the state machine runs (insert-on-initial); null when the saga already exists.</summary>
    public async Task<SagaConsumeContext<TSaga, TMessage>> Insert(TSaga instance)
    {
        try
        {
            await InsertRow(instance);
        }
        catch (DbUpdateException e) when (IsDuplicateKey(e))
        {
            db.Entry(instance).State = EntityState.Detached;
            return null!; // MassTransit then loads the existing row instead.
        }
        return await factory.CreateSagaConsumeContext(db, context, instance, SagaConsumeContextMode.Insert);
    }

    public async Task<SagaConsumeContext<TSaga, TMessage>> Load(Guid correlationId)
    {
        var instance = await Sagas.SingleOrDefaultAsync(s => s.CorrelationId == correlationId, CancellationToken);
        return instance is null
            ? null!
            : await factory.CreateSagaConsumeContext(db, context, instance, SagaConsumeContextMode.Load);
    }

    public async Task Save(SagaConsumeContext<TSaga> sagaContext)
    {
        try
        {
            await InsertRow(sagaContext.Saga);
        }
        catch (DbUpdateException e) when (IsDuplicateKey(e))
        {
            // Another message created this saga first. Retrying finds its row and applies this message to it.
            throw new ConcurrencyException("The saga was created concurrently", typeof(TSaga), sagaContext.Saga.CorrelationId, e);
        }
    }

    public async Task Update(SagaConsumeContext<TSaga> sagaContext)
    {
        if (!db.ChangeTracker.HasChanges())
            return; // An ignored message: no write, so no conflict with writers that matter.

        sagaContext.Saga.Version++;
        await SaveOrThrowConcurrency(sagaContext.Saga);
    }

    public async Task Delete(SagaConsumeContext<TSaga> sagaContext)
    {
        Sagas.Remove(sagaContext.Saga);
        await SaveOrThrowConcurrency(sagaContext.Saga);
    }

    public Task Discard(SagaConsumeContext<TSaga> sagaContext) => Forget(sagaContext.Saga);

    public Task Undo(SagaConsumeContext<TSaga> sagaContext) => Forget(sagaContext.Saga);

    async Task InsertRow(TSaga instance)
    {
        instance.Version = 1;
        Sagas.Add(instance);
        await db.SaveChangesAsync(CancellationToken);
        Committed();
    }

    async Task SaveOrThrowConcurrency(TSaga instance)
    {
        try
        {
            await db.SaveChangesAsync(CancellationToken);
        }
        catch (DbUpdateConcurrencyException e)
        {
            throw new ConcurrencyException("The saga was changed concurrently", typeof(TSaga), instance.CorrelationId, e);
        }
        Committed();
    }

    /// <summary>SaveChanges commits its own transaction, so a write that returned is committed.</summary>
    void Committed()
    {
        foreach (var observer in writeObservers)
            observer.Committed();
    }

    Task Forget(TSaga instance)
    {
        db.Entry(instance).State = EntityState.Detached;
        return Task.CompletedTask;
    }

    static bool IsDuplicateKey(DbUpdateException e) =>
        e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };
}
