using Bus.Scheduler.StateMachines;
using JobStateMachine = Bus.Scheduler.StateMachines.JobStateMachine;

namespace Bus.Scheduler.Inspection;

/// <summary>
/// <c>GET /admin/state-machine</c> on the scheduler's management port: the job state machine's graph as JSON, or as
/// Mermaid text with <c>?format=mermaid</c>. Like <c>/metrics</c>, it is for operators and needs no key: it shows the
/// code's structure, no job or tenant data.
/// </summary>
public static class StateMachineEndpoints
{
    public static WebApplication MapStateMachineGraph(this WebApplication app)
    {
        app.MapGet("/admin/state-machine", (JobStateMachine machine, string? format) =>
            format switch
            {
                null or "json" => Results.Ok(JobStateGraph.Of(machine)),
                "mermaid" => Results.Text(JobStateGraph.Of(machine).ToMermaid(), "text/plain; charset=utf-8"),
                _ => Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "unknown format",
                    detail: "format must be json (the default) or mermaid."),
            });
        return app;
    }
}
