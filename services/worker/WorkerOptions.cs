using Bus.Capacity.Workers;
using Bus.Contracts;

namespace Bus.Worker;

/// <summary>What this worker offers and how it keeps its registration alive. Bound from the <c>Worker</c> section.</summary>
public sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>
    /// This worker's id, stable across restarts so a restarted worker finds its own jobs. Letters, digits,
    /// <c>.</c>, <c>_</c> and <c>-</c>. Default: the machine name.
    /// </summary>
    public string Id { get; set; } = Environment.MachineName.ToLowerInvariant();

    /// <summary>CPUs offered to jobs. Default: the machine's processor count.</summary>
    public int Cpus { get; set; } = Environment.ProcessorCount;

    /// <summary>Memory offered to jobs, in MB. Default: the memory the runtime sees.</summary>
    public int MemoryMb { get; set; } = (int)(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024));

    /// <summary>
    /// GPUs offered to jobs. Default: as many as <see cref="GpuDevices"/> names (detected or configured), else 0. Given
    /// without device ids, the ids are <c>0</c> to <c>Gpus-1</c>.
    /// </summary>
    public int Gpus { get; set; }

    /// <summary>
    /// The GPU device ids this worker hands out, e.g. <c>["0", "1"]</c> or UUIDs (letters, digits, <c>.</c>, <c>_</c>,
    /// <c>:</c>, <c>-</c>). Default: the ids <c>nvidia-smi</c> reports, or none where it is missing. When given,
    /// <see cref="Gpus"/> must be 0 or their count. A job reserving N GPUs is bound N distinct ids with its
    /// reservation, sees exactly those in <c>CUDA_VISIBLE_DEVICES</c>, and its detail shows them.
    /// </summary>
    public string[] GpuDevices { get; set; } = [];

    /// <summary>The most jobs run at once, whatever their size. Default: <see cref="Cpus"/>.</summary>
    public int? MaxConcurrentJobs { get; set; }

    /// <summary>
    /// Services this worker runs; each needs an executor (built in: <c>shell</c>, <c>noop</c>), or the worker refuses
    /// to start. Default <c>shell</c> only; a list given replaces it, so <c>noop</c> is offered only when named.
    /// </summary>
    public string[] Services { get; set; } = [];

    /// <summary>The services when none are configured.</summary>
    public static readonly string[] DefaultServices = ["shell"];

    /// <summary>Languages or language pairs this worker handles for its services, e.g. <c>zh</c>, <c>zh-en</c>.</summary>
    public string[] Languages { get; set; } = [];

    /// <summary>How often the registration is refreshed; each beat is jittered by up to ±10%. Default 30 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a registration lives without a heartbeat. Default 60 s. The worker refuses to start with less than 1.5 times <see cref="HeartbeatInterval"/> (a late beat would let a live worker flicker out); twice leaves room for one lost beat.</summary>
    public TimeSpan RegistrationTtl { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a job must run before the worker reports it started. A job that ends sooner reports only its end,
    /// which carries its start time; the job then goes from Allocated to its end state without showing Running.
    /// Saves a message and a saga write per short job. 0 reports every start at once. Default 100 ms.
    /// </summary>
    public TimeSpan StartedReportDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// On SIGTERM or SIGINT, how long running jobs may go on to end by themselves before they are killed and handed
    /// back to be run elsewhere. Default 30 s. The host's own shutdown timeout is set to this plus a margin.
    /// </summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The longest any attempt may run, whatever its timeoutSeconds. Startup recovery times out an orphaned attempt
    /// found running past it. Default 72 h.
    /// </summary>
    public TimeSpan MaxRuntime { get; set; } = TimeSpan.FromHours(72);

    /// <summary>
    /// Where this worker keeps what it must remember across a restart: the attempts it started and ended, and final
    /// reports the broker has not confirmed yet (one small file each). Default
    /// <c>~/.local/share/bus/worker/{Id}</c>. Two workers must never share one.
    /// </summary>
    public string StateDirectory { get; set; } = "";

    /// <summary>
    /// How long an ended attempt is remembered, so a RunJob redelivered for it in that time is not run again.
    /// Default 6 h; well past the start lease and any outage the messages ride through.
    /// </summary>
    public TimeSpan JournalRetention { get; set; } = TimeSpan.FromHours(6);

    /// <summary>How much of a job's combined stdout and stderr is kept, from the end. Default 64 KiB.</summary>
    public int OutputTailBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Scale simulation, for benchmarks: when above 0, this process is not a worker itself but hosts this
    /// many simulated workers, <c>{Id}-0001</c>, <c>{Id}-0002</c>, ... Each is a worker to the rest of the system: it
    /// registers and heartbeats on its own (heartbeats spread over <see cref="HeartbeatInterval"/>), has its own queue,
    /// and has the size this section gives (<see cref="Cpus"/>, <see cref="MemoryMb"/>, <see cref="Gpus"/>, the slot
    /// limit) and its <see cref="Languages"/>. They offer only <c>noop</c>, whatever <see cref="Services"/> says; they
    /// take no drain and skip startup recovery. <c>--simulate N</c> on the command line sets it. Default 0; at most
    /// 2,000, because each worker's queue is consumed on its own RabbitMQ channel and a connection has 2,047.
    /// </summary>
    public int Simulate { get; set; }

    public int SlotLimit => MaxConcurrentJobs ?? Cpus;

    /// <summary>How this worker contains its jobs, found at start-up (not configuration; see <c>Worker:Enforcement</c>).</summary>
    public string? Enforcement { get; internal set; }

    /// <summary>Command-line shorthands: <c>--simulate 500</c> is <c>--Worker:Simulate 500</c>.</summary>
    public static IDictionary<string, string> CommandLineSwitches { get; } =
        new Dictionary<string, string> { ["--simulate"] = $"{Section}:{nameof(Simulate)}" };

    /// <summary>What this worker registers as, with its current status.</summary>
    public WorkerRegistration Registration(string status) =>
        new(Id, new ResourceVector(Cpus, MemoryMb, Gpus), SlotLimit, Services, Languages, status, GpuDevices, Enforcement);
}
