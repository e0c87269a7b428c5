using System.Diagnostics;
using MassTransit;

namespace Bus.Hosting.Telemetry;

/// <summary>
/// Tags the current span with <c>bus.job.id</c> (and <c>bus.job.attempt</c>) from any message that has a
/// <c>Guid JobId</c> (and an <c>int Attempt</c>), which is every job message by the contracts' own rule. Tagging
/// from the message, not in each consumer, keeps every present and future message covered.
/// </summary>
public sealed class JobSpanTagger : IConsumeObserver, ISendObserver, IPublishObserver
{
    public const string JobIdTag = "bus.job.id";
    public const string AttemptTag = "bus.job.attempt";

    public Task PreConsume<T>(ConsumeContext<T> context) where T : class => Tag(context.Message);
    public Task PostConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;
    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class => Task.CompletedTask;

    public Task PreSend<T>(SendContext<T> context) where T : class => Tag(context.Message);
    public Task PostSend<T>(SendContext<T> context) where T : class => Task.CompletedTask;
    public Task SendFault<T>(SendContext<T> context, Exception exception) where T : class => Task.CompletedTask;

    public Task PrePublish<T>(PublishContext<T> context) where T : class => Tag(context.Message);
    public Task PostPublish<T>(PublishContext<T> context) where T : class => Task.CompletedTask;
    public Task PublishFault<T>(PublishContext<T> context, Exception exception) where T : class => Task.CompletedTask;

    static Task Tag<T>(T message) where T : class
    {
        if (Activity.Current is { IsAllDataRequested: true } span && JobMessageFields<T>.JobId is { } jobId)
        {
            span.SetTag(JobIdTag, jobId.GetValue(message));
            if (JobMessageFields<T>.Attempt is { } attempt)
                span.SetTag(AttemptTag, attempt.GetValue(message));
        }
        return Task.CompletedTask;
    }
}
