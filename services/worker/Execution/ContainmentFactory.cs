namespace Bus.Worker.Execution;

/// <summary>
/// Picks this worker's containment once, at start-up: the mode <see cref="IsolationOptions.Enforcement"/> names, or
/// with <c>auto</c> the strongest that works here (cgroup v2, then v1, then process groups). A downgrade to process
/// groups is logged once, as a warning.
/// </summary>
public static class ContainmentFactory
{
    /// <param name="slots">How many attempts may run at once, so how many v1 cgroups to keep made ahead.</param>
    public static IContainment Choose(IsolationOptions options, string workerId, int slots, ILogger logger)
    {
        var mode = options.Enforcement;
        var v2 = new CgroupV2Containment(UnifiedHierarchy(options.CgroupRoot), options.CgroupParent, workerId, options.PidsLimit);
        var v1 = new CgroupV1Containment(options.CgroupRoot, options.CgroupParent, workerId, options.PidsLimit, Math.Clamp(slots, 1, 32));
        IContainment chosen = mode switch
        {
            EnforcementModes.CgroupV2 => v2.Usable() ? v2 : throw Unusable(mode, options),
            EnforcementModes.CgroupV1 => v1.Usable() ? v1 : throw Unusable(mode, options),
            EnforcementModes.ProcessGroup => new ProcessGroupContainment(),
            _ when v2.Usable() => v2,
            _ when v1.Usable() => v1,
            _ => new ProcessGroupContainment(),
        };
        if (chosen is ProcessGroupContainment && mode == EnforcementModes.Auto)
            logger.LogWarning("No writable cgroup under {CgroupRoot}: jobs run in their own process group, without cpu, memory or pids limits", options.CgroupRoot);
        logger.LogInformation("Jobs are contained by {Enforcement}", chosen.Mode);
        return chosen;
    }

    /// <summary>Where cgroup v2 is: the root itself on a v2-only machine, else its <c>unified</c> folder (hybrid).</summary>
    static string UnifiedHierarchy(string root) =>
        File.Exists(Path.Combine(root, "cgroup.controllers")) ? root : Path.Combine(root, "unified");

    static InvalidOperationException Unusable(string mode, IsolationOptions options) =>
        new($"Worker:Enforcement is {mode}, but no writable {mode} hierarchy with the needed controllers is under {options.CgroupRoot}");
}
