using Bus.Capacity.Redis;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Bus.Scheduler.Tests;

/// <summary>The one Redis-outage policy, on a fake clock: what it runs, when it backs off, when it switches back.</summary>
public sealed class RedisOutagePolicyTests
{
    static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(2);

    readonly FakeTimeProvider _clock = new();
    readonly RedisOutagePolicy _policy;
    int _redisCalls;

    public RedisOutagePolicyTests() =>
        _policy = new RedisOutagePolicy(Options.Create(new RedisOptions { OutageRetryInterval = RetryInterval }), _clock,
            NullLogger<RedisOutagePolicy>.Instance);

    Task<string> Answers()
    {
        _redisCalls++;
        return Task.FromResult("redis");
    }

    Task<string> Unreachable()
    {
        _redisCalls++;
        throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "no connection is available", null, CommandStatus.Unknown);
    }

    [Fact]
    public async Task An_outage_runs_the_fallback_and_later_calls_skip_Redis_until_the_retry_interval_has_passed()
    {
        Assert.Equal("database", await _policy.Run(Unreachable, fallback: () => Task.FromResult("database")));
        Assert.True(_policy.IsDown);

        // Within the interval Redis is not asked at all, whatever the call site.
        Assert.Equal("empty", await _policy.Run(Answers, onOutage: "empty"));
        Assert.False(await _policy.Run(() => Answers()));
        var sent = false;
        _policy.Send(() => sent = true);
        Assert.False(sent);
        Assert.Equal(1, _redisCalls);

        // After it, the next call tries Redis again, and its success ends the outage.
        _clock.Advance(RetryInterval);
        Assert.Equal("redis", await _policy.Run(Answers, onOutage: "empty"));
        Assert.False(_policy.IsDown);
        Assert.Equal(2, _redisCalls);
    }

    [Fact]
    public async Task A_try_that_fails_again_after_the_interval_starts_a_new_interval()
    {
        await _policy.Run(Unreachable, onOutage: "empty");
        _clock.Advance(RetryInterval);

        Assert.Equal("empty", await _policy.Run(Unreachable, onOutage: "empty"));
        _clock.Advance(RetryInterval / 2);
        Assert.Equal("empty", await _policy.Run(Answers, onOutage: "empty"));

        Assert.Equal(2, _redisCalls);
        Assert.True(_policy.IsDown);
    }

    [Fact]
    public async Task A_Redis_that_answers_but_cannot_serve_counts_as_down_and_other_errors_pass_through()
    {
        Assert.Equal("empty", await _policy.Run<string>(() => throw new RedisServerException(RedisErrorKind.Loading, CommandFlags.None, "LOADING Redis is loading the dataset in memory"), onOutage: "empty"));
        _clock.Advance(RetryInterval);

        // A script error is a bug, not an outage: it reaches the caller, and does not start an outage.
        await Assert.ThrowsAsync<RedisServerException>(() =>
            _policy.Run<string>(() => throw new RedisServerException(RedisErrorKind.UnknownError, CommandFlags.None, "ERR user_script:1: Script attempted to access a non local key"), onOutage: "empty"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => _policy.Run<string>(() => throw new InvalidOperationException(), onOutage: "empty"));
        Assert.Equal("redis", await _policy.Run(Answers, onOutage: "empty"));
        Assert.False(_policy.IsDown);
    }

    [Fact]
    public async Task Skipping_a_write_on_an_outage_says_it_did_not_run()
    {
        Assert.True(await _policy.Run(() => Answers()));
        Assert.False(await _policy.Run(() => Unreachable()));
        Assert.True(_policy.IsDown);
    }
}
