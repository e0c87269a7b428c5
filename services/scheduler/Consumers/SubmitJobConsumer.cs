using Bus.Contracts;
using Bus.Hosting.Messaging;
using Bus.Persistence.Catalogue;
using Bus.Persistence.Submissions;
using MassTransit;

namespace Bus.Scheduler.Consumers;

/// <summary>
/// Submissions over the bus (<see cref="QueueNames.JobSubmissions"/>), with the HTTP path's guarantee: the same rules
/// (<see cref="SubmitJobValidator"/>), and the same claim of (tenant, requestId) in <c>job_requests</c>, so one key is
/// one job whichever path or paths it arrives on, at once or not. A claimed submission goes on to the saga; the claim
/// row is its outbox, as for HTTP: a send lost to a crash is sent again by the redelivery of this message, or by the
/// reconciler's relay. The bus carries no caller identity: whoever may send to this queue may name any tenant.
/// </summary>
public sealed class SubmitJobConsumer(JobRequestClaims claims, ServiceCatalogue catalogue, TimeProvider clock, ILogger<SubmitJobConsumer> logger)
    : IConsumer<SubmitJob>
{
    const int MaxTenantLength = 128;

    public async Task Consume(ConsumeContext<SubmitJob> context)
    {
        var message = context.Message;
        if (string.IsNullOrEmpty(message.Tenant) || message.Tenant.Length > MaxTenantLength || message.Tenant.Any(char.IsControl))
        {
            await Reject(context, null, $"tenant is required: 1 to {MaxTenantLength} characters, no control characters.", "tenant");
            return;
        }
        var (submission, errors) = SubmitJobValidator.Validate(message);
        if (submission is null)
        {
            await Reject(context, null, "the submission breaks the rules of docs/api.md: " + string.Join(" ", errors.Values.SelectMany(e => e)), errors);
            return;
        }
        var known = await catalogue.Current(context.CancellationToken);
        if (known.All(e => e.Service != submission.Service))
        {
            await Reject(context, null, $"service '{submission.Service}' is not in the service catalogue; known services: " +
                string.Join(", ", known.Select(e => e.Service)) + ".", "service");
            return;
        }
        var jobId = JobIds.ForRequest(message.Tenant, submission.RequestId);
        if (message.JobId != Guid.Empty && message.JobId != jobId)
        {
            await Reject(context, null, $"jobId must be empty or {jobId}, the id this (tenant, requestId) names.", "jobId");
            return;
        }

        var claim = await claims.Take(message.Tenant, submission, clock.GetUtcNow(), context.CancellationToken);
        if (!claim.SameBody)
        {
            await Reject(context, claim.JobId,
                $"requestId '{submission.RequestId}' was already submitted with a different body, as job {claim.JobId}.", errors);
            return;
        }
        // Also for a repeat: should the first send have been lost, this one starts the job; otherwise the saga ignores it.
        var saga = await context.GetSendEndpoint(QueueNames.JobSagaAddress);
        await saga.Send(claim.Command, context.CancellationToken);
        if (context.ResponseAddress is not null)
            await context.RespondAsync(new SubmitJobAccepted(claim.JobId, submission.RequestId, claim.Created));
    }

    Task Reject(ConsumeContext<SubmitJob> context, Guid? jobId, string reason, string field) =>
        Reject(context, jobId, reason, new Dictionary<string, string[]> { [field] = [reason] });

    /// <summary>A refusal is an answer, not a fault: retrying cannot change it, so the message is consumed either way.</summary>
    async Task Reject(ConsumeContext<SubmitJob> context, Guid? jobId, string reason, IReadOnlyDictionary<string, string[]> errors)
    {
        if (context.ResponseAddress is not null)
            await context.RespondAsync(new SubmitJobRejected(jobId, context.Message.RequestId ?? "", reason, errors));
        else
            logger.LogWarning("A SubmitJob over the bus without a response address was refused: {Reason}", reason);
    }
}

/// <summary>The intake's own queue, named so clients can address it.</summary>
public sealed class SubmitJobConsumerDefinition : ConsumerDefinition<SubmitJobConsumer>
{
    public SubmitJobConsumerDefinition() => EndpointName = QueueNames.JobSubmissions;
}
