using Bus.ComponentTests.Support;
using Bus.Scheduler.Data.SagaRepository;
using MassTransit;
using MassTransit.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Bus.ComponentTests;

/// <summary>
/// Our EF Core saga repository on real PostgreSQL, driven by MassTransit itself. A barrier makes messages load the
/// same saga version (or find no saga) at the same moment, so the races are forced, not hoped for. The endpoint
/// retries only <see cref="ConcurrencyException"/>: if a race surfaced as anything else, a message would be lost
/// and the count would come up short.
/// </summary>
public sealed class SagaRepositoryTests : IAsyncLifetime
{
    TestDatabase _database = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.Create();
        await using var create = _database.DataSource.CreateCommand("""
            CREATE TABLE counters (
                correlation_id uuid PRIMARY KEY, current_state text NOT NULL, version integer NOT NULL, count integer NOT NULL)
            """);
        await create.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Messages_racing_to_create_one_saga_end_in_one_row_with_every_message_applied()
    {
        var id = Guid.NewGuid();
        await using var bus = await StartBus(racers: 4);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => bus.Harness.Bus.Publish(new Count(id))));

        var row = await Eventually.Get(() => Read(id), r => r?.Count == 4, TimeSpan.FromSeconds(30), "all four counts applied");
        Assert.Equal(4, row!.Version);
        Assert.True(bus.Barrier.Executions > 4, "the barrier should have forced at least one retry");
        Assert.Equal(1, await RowCount());
        // One insert and three updates committed; the tries that lost a race committed nothing and told nobody. (The
        // observer hears just after the commit, so the last may still be on its way when the row is read.)
        Assert.Equal(4, await Eventually.Get(() => Task.FromResult(bus.Writes.Count), n => n >= 4, TimeSpan.FromSeconds(10), "four writes told"));
    }

    [Fact]
    public async Task A_version_conflict_throws_ConcurrencyException_and_the_retry_applies_the_message()
    {
        var id = Guid.NewGuid();
        await using var bus = await StartBus(racers: 1);
        await bus.Harness.Bus.Publish(new Count(id));
        await Eventually.Get(() => Read(id), r => r?.Count == 1, TimeSpan.FromSeconds(30), "the saga created");

        bus.Barrier.Arm(racers: 3);
        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => bus.Harness.Bus.Publish(new Count(id))));

        var row = await Eventually.Get(() => Read(id), r => r?.Count == 4, TimeSpan.FromSeconds(30), "all counts applied");
        Assert.Equal(4, row!.Version);
        Assert.True(bus.Barrier.Executions > 4, "three updates of one version cannot all succeed the first time");
        Assert.Equal(4, await Eventually.Get(() => Task.FromResult(bus.Writes.Count), n => n >= 4, TimeSpan.FromSeconds(10), "four writes told"));
    }

    async Task<RunningBus> StartBus(int racers)
    {
        var barrier = new RaceBarrier();
        barrier.Arm(racers);
        var writes = new CountingWriteObserver();
        var provider = new ServiceCollection()
            .AddSingleton(barrier)
            .AddSingleton<ISagaWriteObserver>(writes)
            .AddPooledDbContextFactory<CounterDbContext>(o => o.UseNpgsql(_database.DataSource))
            .AddMassTransitTestHarness(x =>
            {
                x.AddSagaStateMachine<CounterStateMachine, CounterState>()
                    .Endpoint(e => e.ConcurrentMessageLimit = 8)
                    .EfCoreRepository<CounterState, CounterDbContext>();
                x.AddConfigureEndpointsCallback((_, _, cfg) => cfg.UseMessageRetry(r =>
                {
                    r.Handle<ConcurrencyException>();
                    r.Immediate(10);
                }));
            })
            .BuildServiceProvider(true);
        var harness = provider.GetRequiredService<ITestHarness>();
        harness.TestTimeout = TimeSpan.FromSeconds(30);
        await harness.Start();
        return new RunningBus(provider, harness, barrier, writes);
    }

    async Task<CounterState?> Read(Guid id)
    {
        await using var command = _database.DataSource.CreateCommand("SELECT count, version FROM counters WHERE correlation_id = $1");
        command.Parameters.AddWithValue(id);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? new CounterState { CorrelationId = id, Count = reader.GetInt32(0), Version = reader.GetInt32(1) } : null;
    }

    async Task<long> RowCount()
    {
        await using var command = _database.DataSource.CreateCommand("SELECT count(*) FROM counters");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    sealed class CountingWriteObserver : ISagaWriteObserver
    {
        int _count;
        public int Count => _count;
        public void Committed() => Interlocked.Increment(ref _count);
    }

    sealed record RunningBus(ServiceProvider Provider, ITestHarness Harness, RaceBarrier Barrier, CountingWriteObserver Writes) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Harness.Stop();
            await Provider.DisposeAsync();
        }
    }
}

public sealed record Count(Guid CounterId);

public sealed class CounterState : SagaStateMachineInstance, ISagaVersion
{
    public Guid CorrelationId { get; set; }
    public string CurrentState { get; set; } = "";
    public int Version { get; set; }
    public int Count { get; set; }
}

/// <summary>Counts the messages it receives. Each handling first waits at the race barrier.</summary>
public sealed class CounterStateMachine : MassTransitStateMachine<CounterState>
{
    public State Counting { get; private set; } = null!;
    public Event<Count> Counted { get; private set; } = null!;

    public CounterStateMachine(RaceBarrier barrier)
    {
        InstanceState(x => x.CurrentState);
        Event(() => Counted, e => e.CorrelateById(m => m.Message.CounterId));
        Initially(When(Counted).ThenAsync(_ => barrier.Wait()).Then(x => x.Saga.Count = 1).TransitionTo(Counting));
        During(Counting, When(Counted).ThenAsync(_ => barrier.Wait()).Then(x => x.Saga.Count++));
    }
}

/// <summary>Holds the first <c>racers</c> handlings until all of them have loaded their saga, then lets all go.</summary>
public sealed class RaceBarrier
{
    TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    int _waiting;
    int _racers;
    int _executions;

    public int Executions => _executions;

    public void Arm(int racers)
    {
        _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting = 0;
        _racers = racers;
        _executions = 0;
    }

    public Task Wait()
    {
        Interlocked.Increment(ref _executions);
        if (Interlocked.Increment(ref _waiting) == _racers)
            _released.TrySetResult();
        // Past the first round (retries), nobody waits. A deadline keeps a broken race from hanging the test.
        return _waiting > _racers ? Task.CompletedTask : _released.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }
}

public sealed class CounterDbContext(DbContextOptions<CounterDbContext> options) : DbContext(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var counter = modelBuilder.Entity<CounterState>().ToTable("counters");
        counter.HasKey(x => x.CorrelationId);
        counter.Property(x => x.CorrelationId).HasColumnName("correlation_id").ValueGeneratedNever();
        counter.Property(x => x.CurrentState).HasColumnName("current_state");
        counter.Property(x => x.Version).HasColumnName("version").IsConcurrencyToken();
        counter.Property(x => x.Count).HasColumnName("count");
    }
}
