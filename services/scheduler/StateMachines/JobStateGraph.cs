using System.Text;
using MassTransit;
using MassTransit.SagaStateMachine;

namespace Bus.Scheduler.StateMachines;

/// <summary>
/// The job state machine as MassTransit itself sees it (<see cref="GraphStateMachineExtensions.GetGraph{TSaga}"/>),
/// so the picture cannot drift from the code: states and events are its nodes, and an edge goes from a state to an
/// event it handles, and from an event to a state it moves the job to. MassTransit keeps one node per event, so an
/// event handled in several states leads to every state any of them moves to.
/// </summary>
/// <param name="Nodes">States in the order the machine declares them (Initial and Final first), then events likewise.</param>
public sealed record JobStateGraph(IReadOnlyList<JobStateGraph.Node> Nodes, IReadOnlyList<JobStateGraph.Edge> Edges)
{
    /// <param name="Id">Unique in the graph: <c>state:Pending</c>, <c>event:Submit</c>.</param>
    /// <param name="Kind"><c>state</c> or <c>event</c>.</param>
    /// <param name="Message">The message type an event is raised by; null for a state.</param>
    public sealed record Node(string Id, string Kind, string Name, string? Message);

    public sealed record Edge(string From, string To);

    public static JobStateGraph Of(JobStateMachine machine)
    {
        var graph = machine.GetGraph();
        // MassTransit's graph comes out of hash sets; the machine's own declaration order makes it stable.
        var states = machine.States.Select(s => s.Name).ToList();
        var events = machine.Events.Select(e => e.Name).ToList();
        var nodes = graph.Vertices
            .Select(v => v.VertexType == typeof(State)
                ? new Node($"state:{v.Title}", "state", v.Title, null)
                : new Node($"event:{v.Title}", "event", v.Title, v.TargetType == typeof(Event) ? null : v.TargetType.Name))
            .OrderBy(n => n.Kind == "state" ? 0 : 1)
            .ThenBy(n => Position(n.Kind == "state" ? states : events, n.Name))
            .ThenBy(n => n.Name, StringComparer.Ordinal)
            .ToList();
        var order = nodes.Select((n, i) => (n.Id, i)).ToDictionary(x => x.Id, x => x.i);
        var edges = graph.Edges
            .Select(e => new Edge(Id(e.From), Id(e.To)))
            .Distinct()
            .OrderBy(e => order[e.From]).ThenBy(e => order[e.To])
            .ToList();
        return new JobStateGraph(nodes, edges);
    }

    /// <summary>A Mermaid flowchart of the graph: states as rounded nodes, events as boxes naming their message.</summary>
    public string ToMermaid()
    {
        var index = Nodes.Select((n, i) => (n.Id, i)).ToDictionary(x => x.Id, x => x.i);
        var text = new StringBuilder("flowchart TB\n");
        foreach (var node in Nodes)
            text.Append(node.Kind == "state"
                ? $"    n{index[node.Id]}([\"{node.Name}\"])\n"
                : $"    n{index[node.Id]}[\"{node.Name}{(node.Message is null ? "" : $" «{node.Message}»")}\"]\n");
        foreach (var edge in Edges)
            text.Append($"    n{index[edge.From]} --> n{index[edge.To]}\n");
        return text.ToString();
    }

    static string Id(Vertex vertex) => vertex.VertexType == typeof(State) ? $"state:{vertex.Title}" : $"event:{vertex.Title}";

    static int Position(List<string> names, string name) => names.IndexOf(name) is var i and >= 0 ? i : int.MaxValue;
}
