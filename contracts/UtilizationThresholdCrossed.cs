namespace Bus.Contracts;

/// <summary>
/// The CPU utilization of one worker, or of the whole cluster, crossed the alert threshold: upwards
/// (<paramref name="Above"/> true) or back below it. Published by the scheduler once per crossing, not once per
/// allocation while it stays above.
/// </summary>
/// <param name="Scope">The worker id, or <c>"cluster"</c> for the sum over live workers.</param>
/// <param name="Utilization">Allocated CPUs over offered CPUs, 0 to 1, when the crossing was seen.</param>
public record UtilizationThresholdCrossed(string Scope, double Utilization, double Threshold, bool Above, DateTimeOffset At);
