using Bus.Gateway.Limits;
using Microsoft.Extensions.Time.Testing;

namespace Bus.Gateway.Tests;

/// <summary>The quota's reused count: fresh only within its age, and only ever at or above what was counted and added.</summary>
public sealed class ActiveJobEstimatesTests
{
    static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    [Fact]
    public void A_count_is_reused_with_the_jobs_added_since_until_it_is_older_than_its_max_age()
    {
        var clock = new FakeTimeProvider();
        var estimates = new ActiveJobEstimates(clock);
        Assert.Null(estimates.Fresh("dev", MaxAge));
        estimates.Added("dev", 5); // nothing counted yet: nothing to add to
        Assert.Null(estimates.Fresh("dev", MaxAge));

        estimates.Counted("dev", 40);
        estimates.Added("dev", 1);
        estimates.Added("dev", 2);
        clock.Advance(TimeSpan.FromMilliseconds(900));

        Assert.Equal(43, estimates.Fresh("dev", MaxAge));
        Assert.Null(estimates.Fresh("acme", MaxAge));
        Assert.Null(estimates.Fresh("dev", TimeSpan.Zero));
        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Null(estimates.Fresh("dev", MaxAge));

        // A new count replaces the old one and what was added to it.
        estimates.Counted("dev", 7);
        Assert.Equal(7, estimates.Fresh("dev", MaxAge));
    }

    [Fact]
    public async Task Additions_from_many_requests_at_once_are_all_kept()
    {
        var estimates = new ActiveJobEstimates(new FakeTimeProvider());
        estimates.Counted("dev", 0);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
                estimates.Added("dev", 1);
        })));

        Assert.Equal(80_000, estimates.Fresh("dev", MaxAge));
    }
}
