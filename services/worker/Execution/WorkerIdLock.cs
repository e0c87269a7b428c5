using Microsoft.Extensions.Options;

namespace Bus.Worker.Execution;

/// <summary>
/// One live process per worker id on a host. A starting worker kills whatever it finds in its id's cgroups (the
/// leftovers of an earlier process of it) and owns its id's journal, so a second live process with the same id would
/// kill the first one's jobs and mix up their reports. The first to start holds an exclusive lock on a file named
/// after its cgroup folder; the kernel drops the lock when that process ends, <c>kill -9</c> included, so a
/// restart after a crash is never refused. .NET takes the lock with <c>flock</c> for <see cref="FileShare.None"/>.
/// </summary>
/// <remarks>
/// Taken in <see cref="StartingAsync"/>, which the host calls on every hosted service before it starts any: before
/// the bus starts, so a refused process never takes a message off the first one's queue.
/// The file lives in <c>/run/bus-worker</c>, which only root may write (a job could otherwise hold the lock to keep
/// its worker from starting), or, for a worker that does not run as root (and then has no cgroups to share), in its
/// state directory.
/// </remarks>
public sealed class WorkerIdLock(IOptions<WorkerOptions> worker, IOptions<IsolationOptions> isolation) : IHostedLifecycleService, IDisposable
{
    const string HostFolder = "/run/bus-worker";
    FileStream? _held;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        Take(isolation.Value.CgroupParent, worker.Value.Id, worker.Value.StateDirectory);
        return Task.CompletedTask;
    }

    /// <summary>Takes the lock for the worker's cgroup folder, or throws naming the file another process holds.</summary>
    void Take(string cgroupParent, string workerId, string stateDirectory)
    {
        var folder = Environment.UserName == "root" ? HostFolder : stateDirectory;
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"{cgroupParent.Replace('/', '_')}--{workerId}.lock");
        try
        {
            _held = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException(
                $"Another process of worker '{workerId}' runs on this host (it holds {path}). Two processes with one " +
                "Worker:Id and Worker:CgroupParent would kill each other's jobs: give this one another Worker:Id.", e);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _held?.Dispose();
}
