using Bus.Capacity.Ledger;
using Bus.Capacity.Redis;
using Bus.Capacity.Workers;
using Bus.Contracts;
using Bus.ComponentTests.Support;
using StackExchange.Redis;

namespace Bus.ComponentTests;

/// <summary>The Lua reservation and registry scripts on real Redis, standalone and the 3-master cluster alike.</summary>
public sealed class CapacityLedgerTests(RedisTargets redis) : IClassFixture<RedisTargets>
{
    static readonly ResourceVector OneCpu = new(1, 0, 0);

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task Reserving_past_capacity_is_refused_and_changes_nothing(string target)
    {
        var (registry, ledger) = Open(target);
        await registry.Register(Worker("w1", cpus: 4, slots: 8), TimeSpan.FromMinutes(1));

        Assert.Equal(ReservationResult.Reserved, await ledger.Reserve("w1", Guid.NewGuid(), 1, new ResourceVector(3, 0, 0)));
        Assert.Equal(ReservationResult.NoCapacity, await ledger.Reserve("w1", Guid.NewGuid(), 1, new ResourceVector(2, 0, 0)));

        var worker = await registry.Read("w1");
        Assert.Equal((3, 1), (worker!.Used.Cpus, worker.RunningJobs));
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task The_slot_limit_holds_even_when_cpus_are_free(string target)
    {
        var (registry, ledger) = Open(target);
        await registry.Register(Worker("w1", cpus: 8, slots: 2), TimeSpan.FromMinutes(1));

        await ledger.Reserve("w1", Guid.NewGuid(), 1, OneCpu);
        await ledger.Reserve("w1", Guid.NewGuid(), 1, OneCpu);

        Assert.Equal(ReservationResult.NoCapacity, await ledger.Reserve("w1", Guid.NewGuid(), 1, OneCpu));
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task Repeating_a_reservation_or_a_release_is_a_no_op(string target)
    {
        var (registry, ledger) = Open(target);
        await registry.Register(Worker("w1", cpus: 4, slots: 4), TimeSpan.FromMinutes(1));
        var job = Guid.NewGuid();

        Assert.Equal(ReservationResult.Reserved, await ledger.Reserve("w1", job, 1, new ResourceVector(2, 0, 0)));
        Assert.Equal(ReservationResult.AlreadyHeld, await ledger.Reserve("w1", job, 1, new ResourceVector(2, 0, 0)));
        Assert.Equal(2, (await registry.Read("w1"))!.Used.Cpus);

        Assert.Equal(ReleaseResult.Released, await ledger.Release("w1", job, 1));
        Assert.Equal(ReleaseResult.NothingHeld, await ledger.Release("w1", job, 1));
        var worker = await registry.Read("w1");
        Assert.Equal((0, 0), (worker!.Used.Cpus, worker.RunningJobs));
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task Only_the_current_attempt_can_release(string target)
    {
        var (registry, ledger) = Open(target);
        await registry.Register(Worker("w1", cpus: 4, slots: 4), TimeSpan.FromMinutes(1));
        var job = Guid.NewGuid();
        await ledger.Reserve("w1", job, 2, OneCpu);

        Assert.Equal(ReleaseResult.HeldByOtherAttempt, await ledger.Release("w1", job, 1));
        Assert.Equal(ReservationResult.HeldByOtherAttempt, await ledger.Reserve("w1", job, 1, OneCpu));
        Assert.Equal(1, (await registry.Read("w1"))!.Used.Cpus);
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task An_attempt_released_on_a_worker_cannot_be_reserved_there_again(string target)
    {
        // Two schedulers: one places a job that runs and ends at once; the other, which read it as still pending,
        // reserves the same attempt moments later. Held again, nothing would ever release it.
        var (registry, ledger) = Open(target);
        await registry.Register(Worker("w1", cpus: 4, slots: 4), TimeSpan.FromMinutes(1));
        var job = Guid.NewGuid();
        await ledger.Reserve("w1", job, 1, OneCpu);
        Assert.Equal(ReleaseResult.Released, await ledger.Release("w1", job, 1));

        Assert.Equal(ReservationResult.AttemptReleased, await ledger.Reserve("w1", job, 1, OneCpu));
        var worker = await registry.Read("w1");
        Assert.Equal((0, 0), (worker!.Used.Cpus, worker.RunningJobs));
        Assert.Equal(ReservationResult.Reserved, await ledger.Reserve("w1", job, 2, OneCpu)); // the job's next attempt may
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task Draining_and_unregistered_workers_refuse_reservations(string target)
    {
        var (registry, ledger) = Open(target);
        await registry.Register(Worker("w1", cpus: 4, slots: 4, status: WorkerStatus.Draining), TimeSpan.FromMinutes(1));

        Assert.Equal(ReservationResult.WorkerDraining, await ledger.Reserve("w1", Guid.NewGuid(), 1, OneCpu));
        Assert.Equal(ReservationResult.WorkerGone, await ledger.Reserve("nobody", Guid.NewGuid(), 1, OneCpu));
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task A_worker_whose_heartbeat_lapses_drops_out_of_the_live_list_by_itself(string target)
    {
        var (registry, ledger) = Open(target);
        await registry.Register(Worker("short", cpus: 2, slots: 2), TimeSpan.FromSeconds(1));
        await registry.Register(Worker("long", cpus: 2, slots: 2), TimeSpan.FromMinutes(1));
        Assert.Equal(["long", "short"], (await registry.ListLive()).Select(w => w.WorkerId).Order());

        var live = await Eventually.Get(registry.ListLive, l => l.Count == 1, TimeSpan.FromSeconds(10), "the lapsed worker to drop out");

        Assert.Equal("long", live.Single().WorkerId);
        // The index and the registration's own TTL may disagree by the time between two commands: wait, don't guess.
        await Eventually.Get(() => ledger.Reserve("short", Guid.NewGuid(), 1, OneCpu), r => r == ReservationResult.WorkerGone,
            TimeSpan.FromSeconds(5), "the lapsed worker refusing reservations");
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task Repair_restores_lost_reservations_removes_strays_and_recounts(string target)
    {
        var keys = RedisTargets.FreshKeys();
        var (registry, ledger) = Open(target, keys);
        await registry.Register(Worker("w1", cpus: 8, slots: 8), TimeSpan.FromMinutes(1));
        var kept = Guid.NewGuid();
        var stray = Guid.NewGuid();
        await ledger.Reserve("w1", kept, 1, new ResourceVector(2, 0, 0));
        await ledger.Reserve("w1", stray, 1, new ResourceVector(3, 0, 0));
        await redis.Connection(target).GetDatabase().HashSetAsync(keys.WorkerUsed("w1"), "cpus", 99); // drift
        var lost = new Reservation(Guid.NewGuid(), 1, new ResourceVector(1, 0, 0));

        var wrongCounters = await ledger.Repair("w1", [lost], [new Reservation(stray, 1, new ResourceVector(3, 0, 0))]);

        Assert.True(wrongCounters >= 1);
        Assert.Equal(new[] { kept, lost.JobId }.Order(), (await ledger.Reservations("w1")).Select(r => r.JobId).Order());
        var worker = await registry.Read("w1");
        Assert.Equal((3, 2), (worker!.Used.Cpus, worker.RunningJobs));
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task Concurrent_reservers_never_oversell_a_worker(string target)
    {
        var (registry, ledger) = Open(target);
        var workers = Enumerable.Range(0, 10).Select(i => $"w{i}").ToArray();
        foreach (var id in workers)
            await registry.Register(Worker(id, cpus: 4, slots: 3), TimeSpan.FromMinutes(5));

        // 32 reservers hammer 10 small workers with random reserve/release; every moment must stay within bounds.
        var overs = 0;
        await Task.WhenAll(Enumerable.Range(0, 32).Select(seed => Task.Run(async () =>
        {
            var random = new Random(seed);
            var held = new List<(string Worker, Guid Job)>();
            for (var i = 0; i < 150; i++)
            {
                if (held.Count > 0 && random.Next(2) == 0)
                {
                    var (worker, job) = held[random.Next(held.Count)];
                    held.Remove((worker, job));
                    await ledger.Release(worker, job, 1);
                    continue;
                }
                var target = workers[random.Next(workers.Length)];
                var jobId = Guid.NewGuid();
                if (await ledger.Reserve(target, jobId, 1, new ResourceVector(random.Next(1, 3), 0, 0)) == ReservationResult.Reserved)
                    held.Add((target, jobId));
                var seen = await registry.Read(target);
                if (seen!.Used.Cpus > 4 || seen.RunningJobs > 3)
                    Interlocked.Increment(ref overs);
            }
            foreach (var (worker, job) in held)
                await ledger.Release(worker, job, 1);
        })));

        Assert.Equal(0, overs);
        foreach (var id in workers)
        {
            var worker = await registry.Read(id);
            Assert.Equal((0, 0), (worker!.Used.Cpus, worker.RunningJobs));
            Assert.Empty(await ledger.Reservations(id));
        }
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task A_reservation_binds_distinct_gpu_ids_that_its_release_frees_again(string target)
    {
        var (registry, ledger) = Open(target);
        await registry.Register(new WorkerRegistration("g1", new ResourceVector(8, 0, 3), 8, ["shell"], [], WorkerStatus.Ready, ["a", "b", "c"]),
            TimeSpan.FromMinutes(1));
        var (two, one, late) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());

        Assert.Equal(ReservationResult.Reserved, await ledger.Reserve("g1", two, 1, new ResourceVector(1, 0, 2)));
        Assert.Equal(ReservationResult.Reserved, await ledger.Reserve("g1", one, 1, new ResourceVector(1, 0, 1)));
        Assert.Equal(ReservationResult.NoCapacity, await ledger.Reserve("g1", late, 1, new ResourceVector(1, 0, 1)));
        var (first, second) = (await ledger.BoundGpus("g1", two, 1), await ledger.BoundGpus("g1", one, 1));
        Assert.Equal(["a", "b", "c"], first!.Concat(second!).Order());
        Assert.Null(await ledger.BoundGpus("g1", two, 2)); // another attempt's ids are not this one's

        await ledger.Release("g1", two, 1);
        Assert.Equal(ReservationResult.Reserved, await ledger.Reserve("g1", late, 1, new ResourceVector(1, 0, 1)));
        Assert.DoesNotContain((await ledger.BoundGpus("g1", late, 1))!.Single(), second!);
        Assert.Equal((2, 2), ((await registry.Read("g1"))!.Used.Gpus, (await ledger.Reservations("g1")).Count));
    }

    (WorkerRegistry, RedisCounters) Open(string target, RedisKeys? keys = null)
    {
        keys ??= RedisTargets.FreshKeys();
        var connection = redis.Connection(target);
        return (new WorkerRegistry(connection, keys, TimeProvider.System), new RedisCounters(connection, keys));
    }

    static WorkerRegistration Worker(string id, int cpus, int slots, string status = WorkerStatus.Ready) =>
        new(id, new ResourceVector(cpus, 1024, 0), slots, ["shell"], [], status);
}
