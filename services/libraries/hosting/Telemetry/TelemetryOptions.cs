namespace Bus.Hosting.Telemetry;

/// <summary>
/// Whether traces are exported, read from the standard OpenTelemetry variables so nothing project-specific is
/// needed to turn tracing on. With no exporter configured, no spans are recorded at all.
/// </summary>
/// <param name="Otlp">OTLP, when <c>OTEL_TRACES_EXPORTER</c> is <c>otlp</c>, or is unset and
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. The exporter reads the rest itself (<c>OTEL_EXPORTER_OTLP_PROTOCOL</c>,
/// <c>OTEL_EXPORTER_OTLP_HEADERS</c>, ...); <c>OTEL_TRACES_EXPORTER=none</c> turns it off.</param>
public sealed record TelemetryOptions(bool Otlp)
{
    public static TelemetryOptions FromEnvironment(Func<string, string?> variable)
    {
        var exporters = (variable("OTEL_TRACES_EXPORTER") ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var otlp = exporters.Length == 0
            ? !string.IsNullOrEmpty(variable("OTEL_EXPORTER_OTLP_ENDPOINT"))
            : exporters.Contains("otlp", StringComparer.OrdinalIgnoreCase);
        return new TelemetryOptions(otlp);
    }
}
