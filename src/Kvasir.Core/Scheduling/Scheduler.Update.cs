using System.Diagnostics;
using Kvasir.Core.Requests;

namespace Kvasir.Core.Scheduling;

public sealed partial class Scheduler
{
    /// <summary>
    /// Applies a step's results: advances every scheduled request's NumComputedTokens by the tokens it ran; for those
    /// whose chunk reached the end of their tokens, appends the sampled tokens (forking the group of a
    /// parallel-sampling request whose prompt just completed) and checks the stops in this order: end-of-sequence
    /// (unless IgnoreEos) or a stop token id → <see cref="RequestStatus.FinishedStopped"/>; max_tokens or
    /// <see cref="MaxSeqLen"/> → <see cref="RequestStatus.FinishedLength"/>. Tokens after a stop are dropped.
    /// Finished requests' blocks are freed. Stop strings are the engine's: it calls <see cref="Finish"/>.
    /// </summary>
    /// <param name="output">The output of the last <see cref="Schedule"/>.</param>
    /// <param name="runnerOutput">One <see cref="SampledTokens"/> per scheduled request with logits, in schedule order.</param>
    /// <returns>The requests finished by this update and the parallel-sampling children it forked.</returns>
    /// <exception cref="InvalidOperationException"><paramref name="output"/> is not the step in flight.</exception>
    /// <exception cref="ArgumentException">The runner's output does not answer the step (count, ids or number of tokens).</exception>
    public UpdateResult Update(SchedulerOutput output, ModelRunnerOutput runnerOutput)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(runnerOutput);
        if (!ReferenceEquals(output, _inFlight))
        {
            if (output.IsEmpty && runnerOutput.Sampled.Length == 0)
                return UpdateResult.Empty;
            throw new InvalidOperationException($"Update must get the output of the last Schedule, once; step {output.Step} is not in flight.");
        }
        ValidateRunnerOutput(output, runnerOutput);
        _inFlight = null;

        ScheduledRequest[] scheduled = output.ScheduledRequests;
        SampledTokens[] sampled = runnerOutput.Sampled;
        List<Request>? finished = null;
        List<Request>? forked = null;
        int cursor = 0;
        for (int k = 0; k < scheduled.Length; k++)
        {
            SchedulerEntry entry = _scheduled[k];
            Request request = entry.Request;
            ScheduledRequest step = scheduled[k];
            ReadOnlySpan<int> tokenIds = step.WantLogits ? sampled[cursor++].TokenIds.Span : default;
            if (entry.FreeDeferred)
            {
                // Finished or aborted while the step ran: its blocks could be freed only now.
                entry.FreeDeferred = false;
                _kv.Free(request);
                _entries.Remove(request.RequestId);
                continue;
            }
            Debug.Assert(request.Status == RequestStatus.Running);
            request.NumComputedTokens += step.NumTokens;
            if (!step.WantLogits)
                continue;
            if (step.NumSamples > 1)
            {
                ForkGroup(entry, tokenIds, ref forked, ref finished);
                tokenIds = tokenIds[..1];
            }
            RequestStatus status = AppendTokens(request, tokenIds);
            if (status != RequestStatus.Running)
            {
                request.Status = status;
                _kv.Free(request);
                _entries.Remove(request.RequestId);
                _finishedIds.Add(request.RequestId);
                (finished ??= []).Add(request);
            }
        }
        if (finished is not null)
            _running.RemoveAll(static e => e.Request.IsFinished);
        return finished is null && forked is null
            ? UpdateResult.Empty
            : new UpdateResult(finished is null ? [] : finished, forked is null ? [] : forked);
    }

    /// <summary>Appends tokens in order until one ends the request; returns the finished status, or Running.</summary>
    private RequestStatus AppendTokens(Request request, ReadOnlySpan<int> tokenIds)
    {
        foreach (int token in tokenIds)
        {
            request.AppendOutputToken(token);
            RequestStatus status = CheckStop(request, token);
            if (status != RequestStatus.Running)
                return status;
        }
        return RequestStatus.Running;
    }

    /// <summary>
    /// vLLM's stop check, except that a stop token wins over a length limit reached by the same token (the sequence
    /// did end naturally).
    /// </summary>
    private RequestStatus CheckStop(Request request, int lastToken)
    {
        if (!request.IgnoreEos && request.EosTokenIds.AsSpan().Contains(lastToken))
            return RequestStatus.FinishedStopped;
        if (request.StopTokenIds.AsSpan().Contains(lastToken))
            return RequestStatus.FinishedStopped;
        if (request.NumOutputTokens >= request.MaxTokens || request.NumTokens >= _maxSeqLen)
            return RequestStatus.FinishedLength;
        return RequestStatus.Running;
    }

    private static void ValidateRunnerOutput(SchedulerOutput output, ModelRunnerOutput runnerOutput)
    {
        ScheduledRequest[] scheduled = output.ScheduledRequests;
        SampledTokens[] sampled = runnerOutput.Sampled;
        int cursor = 0;
        foreach (ScheduledRequest step in scheduled)
        {
            if (!step.WantLogits)
                continue;
            if (cursor >= sampled.Length)
                throw new ArgumentException($"The runner returned {sampled.Length} sampled entries; step {output.Step} has more requests with logits.", nameof(runnerOutput));
            SampledTokens tokens = sampled[cursor++];
            if (!string.Equals(tokens.RequestId, step.RequestId, StringComparison.Ordinal))
                throw new ArgumentException($"Sampled entry {cursor - 1} is for '{tokens.RequestId}'; expected '{step.RequestId}' (entries follow the schedule order).", nameof(runnerOutput));
            int count = tokens.TokenIds.Length;
            if (step.NumSamples > 1 ? count != step.NumSamples : count < 1)
                throw new ArgumentException($"Request '{step.RequestId}' got {count} sampled tokens; it needs {(step.NumSamples > 1 ? $"exactly {step.NumSamples} (one per parallel sample)" : "at least one")}.", nameof(runnerOutput));
        }
        if (cursor != sampled.Length)
            throw new ArgumentException($"The runner returned {sampled.Length} sampled entries; step {output.Step} has {cursor} requests with logits.", nameof(runnerOutput));
    }
}
