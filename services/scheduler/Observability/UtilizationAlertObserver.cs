using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bus.Scheduler.Observability;

/// <summary>
/// Alerts when a worker's or the cluster's CPU utilization crosses <see cref="ObserverOptions.UtilizationAlertThreshold"/>,
/// upwards (a warning log and a <c>UtilizationThresholdCrossed</c> event) or back below it by more than
/// <see cref="ObserverOptions.UtilizationAlertHysteresis"/> for <see cref="ObserverOptions.UtilizationAlertClearAfter"/>
/// (an information log and the event), once per crossing. Placement only queues the worker's id; a background loop reads utilization from the
/// registry, so no Redis read or publish ever sits on the placement path. The loop also feeds the
/// <c>bus.scheduler.utilization</c> gauge, since it is the one place utilization is read.
/// Each scheduler instance alerts on what it sees, so with several instances a crossing may be reported by each.
/// </summary>
public sealed class UtilizationAlertObserver : BackgroundService, IAllocationObserver
{
    public const string ClusterScope = "cluster";

    static readonly TimeSpan ClearRetryPause = TimeSpan.FromSeconds(1);

    // Ids of workers that changed since the loop last looked. Bounded so a stalled loop cannot grow memory; dropping
    // an id is harmless because any later change of that worker queues it again.
    readonly Channel<string> _changes = Channel.CreateBounded<string>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    readonly ConcurrentDictionary<string, double> _readings = new();
    readonly IUtilizationSource _source;
    readonly IBus _bus;
    readonly TimeProvider _clock;
    readonly ILogger<UtilizationAlertObserver> _logger;
    readonly ObserverOptions _options;
    readonly ThresholdCrossings _crossings;

    public UtilizationAlertObserver(IUtilizationSource source, IBus bus, IOptions<ObserverOptions> options, TimeProvider clock,
        IMeterFactory meters, ILogger<UtilizationAlertObserver> logger)
    {
        (_source, _bus, _clock, _logger, _options) = (source, bus, clock, logger, options.Value);
        _crossings = new ThresholdCrossings(_options.UtilizationAlertThreshold, _options.UtilizationAlertHysteresis,
            _options.UtilizationAlertClearAfter);
        meters.Create(MetricsObserver.MeterName).CreateObservableGauge("bus.scheduler.utilization",
            () => _readings.Select(r => new Measurement<double>(r.Value, new KeyValuePair<string, object?>("scope", r.Key))),
            "1", "Allocated over offered CPUs, per worker and for the cluster, as last read after a change");
    }

    public void OnAllocated(AllocationEvent allocation) => _changes.Writer.TryWrite(allocation.WorkerId);

    public void OnReleased(AllocationEvent release) => _changes.Writer.TryWrite(release.WorkerId);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var clusterReadAt = DateTimeOffset.MinValue;
        var clusterOwed = false; // a worker changed since the cluster was last read
        // A clearing whose read failed (Redis down) stays due: read it again after a pause, not in a busy loop.
        var clearsNotBefore = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            DateTimeOffset? clusterDue = clusterOwed ? clusterReadAt + _options.ClusterCheckInterval : null;
            DateTimeOffset? clearDue = _crossings.NextClearDue is { } next && next < clearsNotBefore ? clearsNotBefore : _crossings.NextClearDue;
            var due = new[] { clusterDue, clearDue }.Min();
            await WaitForChanges(due - _clock.GetUtcNow(), stoppingToken);

            // Many changes of one worker since the last pass need one read, not one each.
            var workers = new HashSet<string>();
            while (_changes.Reader.TryRead(out var workerId))
                workers.Add(workerId);
            // A scope that has waited out its clearing is read again, changed or not: it may have been quiet since.
            var clearsDue = _clock.GetUtcNow() >= clearsNotBefore ? _crossings.ClearsDue(_clock.GetUtcNow()) : Array.Empty<string>();
            if (clearsDue.Count > 0)
                clearsNotBefore = _clock.GetUtcNow() + ClearRetryPause;
            foreach (var scope in clearsDue.Where(s => s != ClusterScope))
                workers.Add(scope);
            foreach (var workerId in workers)
                await Check(workerId, () => _source.Worker(workerId), stoppingToken);

            clusterOwed |= workers.Count > 0;
            if ((clusterOwed && _clock.GetUtcNow() >= clusterReadAt + _options.ClusterCheckInterval) || clearsDue.Contains(ClusterScope))
            {
                (clusterReadAt, clusterOwed) = (_clock.GetUtcNow(), false);
                await Check(ClusterScope, _source.Cluster, stoppingToken);
            }
        }
    }

    /// <summary>Waits for a change, but no longer than <paramref name="atMost"/> (when the owed cluster read, or a clearing, falls due).</summary>
    async Task WaitForChanges(TimeSpan? atMost, CancellationToken stoppingToken)
    {
        if (atMost <= TimeSpan.Zero)
            return;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        if (atMost is { } wait)
            timeout.CancelAfter(wait);
        try
        {
            await _changes.Reader.WaitToReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // The cluster read is due.
        }
    }

    /// <summary>Reads one scope and reports a crossing. Never throws: a failing read or publish must not end the loop.</summary>
    async Task Check(string scope, Func<Task<double?>> read, CancellationToken stoppingToken)
    {
        try
        {
            if (await read() is not { } utilization)
            {
                _readings.TryRemove(scope, out _);
                _crossings.Forget(scope);
                return;
            }
            _readings[scope] = utilization;
            if (_crossings.Observe(scope, utilization, _clock.GetUtcNow()) is not { } crossing)
                return;

            if (crossing.Above)
                _logger.LogWarning("CPU utilization of {Scope} is {Utilization:P0}, at or above the alert threshold {Threshold:P0}",
                    scope, utilization, crossing.Threshold);
            else
                _logger.LogInformation("CPU utilization of {Scope} is back below the alert threshold {Threshold:P0}: {Utilization:P0}",
                    scope, crossing.Threshold, utilization);
            SchedulerInstruments.UtilizationAlert(crossing.Above);
            await _bus.Publish(crossing, stoppingToken);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            _logger.LogWarning(e, "Utilization check of {Scope} failed; the next change checks it again", scope);
        }
    }
}
