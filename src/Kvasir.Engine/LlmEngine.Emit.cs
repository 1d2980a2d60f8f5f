using System.Diagnostics;
using System.Threading.Channels;
using Kvasir.Core.Requests;
using Kvasir.Core.Scheduling;
using Kvasir.Engine.Generation;
using Kvasir.Model.Sampling;
using Kvasir.Model.Tokenizers;

namespace Kvasir.Engine;

/// <summary>Turning sampled tokens into deltas: detokenization, stop strings, finishes and usage.</summary>
public sealed partial class LlmEngine
{
    private void Emit(ModelRunnerOutput result, UpdateResult update)
    {
        // Children of parallel-sampling requests come to life when their parent's prompt is done.
        foreach (var child in update.Forked)
        {
            if (child.ParentRequestId is { } parentId && _sequences.TryGetValue(parentId, out var parent))
            {
                _runner.Fork(parentId, child.RequestId, child.SampleIndex);
                AddSequence(parent.Group, child, child.SampleIndex);
            }
        }

        Dictionary<string, Request>? finished = null;
        foreach (var r in update.Finished)
        {
            (finished ??= new(StringComparer.Ordinal))[r.RequestId] = r;
        }

        foreach (var s in result.Sampled)
        {
            var tokens = s.TokenIds.Span;
            var logprobs = s.Logprobs as TokenLogprob[];
            for (var i = 0; i < tokens.Length; i++)
            {
                var id = i == 0 ? s.RequestId : Scheduler.GetChildRequestId(s.RequestId, i);
                if (_sequences.TryGetValue(id, out var seq))
                {
                    EmitToken(seq, tokens[i], logprobs?[i], finished?.GetValueOrDefault(id));
                }
            }
        }

        // Anything the scheduler finished without a token this step (for example aborted mid-step).
        foreach (var r in update.Finished)
        {
            if (_sequences.TryGetValue(r.RequestId, out var seq))
            {
                Finish(seq, ReasonOf(r.Status), [], seq.Detokenizer.Flush(), null);
            }
        }
    }

    private void EmitToken(Sequence seq, int token, TokenLogprob? logprob, Request? finishedRequest)
    {
        var group = seq.Group;
        var now = Stopwatch.GetTimestamp();
        if (!group.FirstTokenSeen)
        {
            group.FirstTokenSeen = true;
            Metrics.RecordTimeToFirstToken(Stopwatch.GetElapsedTime(group.ArrivalTicks, now).TotalSeconds);
            Metrics.AddTokens(group.Request.PromptTokenIds.Length, 0);
        }

        if (seq.NumTokens == 0)
        {
            seq.FirstTokenTicks = now;
        }

        seq.NumTokens++;
        Metrics.AddTokens(0, 1);

        FinishReason? finish = null;
        string text;
        if (finishedRequest is not null)
        {
            finish = ReasonOf(finishedRequest.Status);
            // A stop token or end-of-generation token ends the sequence without being part of its text.
            var endToken = finish == FinishReason.Stop && (Array.IndexOf(finishedRequest.StopTokenIds, token) >= 0
                || (!finishedRequest.IgnoreEos && Array.IndexOf(finishedRequest.EosTokenIds, token) >= 0));
            text = endToken ? seq.Detokenizer.Flush() : seq.Detokenizer.Append(token) + seq.Detokenizer.Flush();
        }
        else
        {
            text = seq.Detokenizer.Append(token);
        }

        if (seq.Stops is { } stops)
        {
            var emit = stops.Append(text).ToString();
            if (stops.IsStopped)
            {
                if (finish is null)
                {
                    _scheduler.Finish(seq.Request.RequestId, RequestStatus.FinishedStopped);
                }

                finish = FinishReason.Stop;
            }
            else if (finish is not null)
            {
                emit += stops.Flush().ToString();
            }

            text = emit;
        }

        TokenLogprob[]? logprobs = logprob is null ? null : [logprob];
        if (finish is { } reason)
        {
            Finish(seq, reason, [token], text, logprobs);
        }
        else
        {
            group.Output.TryWrite(new TokenDelta(seq.Index, [token], text, logprobs, null, null));
        }
    }

    private void Finish(Sequence seq, FinishReason reason, int[] tokens, string text, TokenLogprob[]? logprobs)
    {
        var group = seq.Group;
        var now = Stopwatch.GetTimestamp();
        var parent = group.Sequences.Count > 0 ? group.Sequences[0].Request : seq.Request;
        var cached = Math.Max(0, group.CachedTokens >= 0 ? group.CachedTokens : parent.NumCachedTokens);
        group.CachedTokens = cached;
        var usage = new RequestUsage(group.Request.PromptTokenIds.Length, seq.NumTokens, cached);
        group.Finished[seq.Index] = true;

        _runner.Remove(seq.Request.RequestId);
        _sequences.Remove(seq.Request.RequestId);
        group.Sequences.Remove(seq);
        Metrics.RecordFinished(reason);
        if (seq.NumTokens > 1)
        {
            Metrics.RecordTimePerOutputToken(Stopwatch.GetElapsedTime(seq.FirstTokenTicks, now).TotalSeconds / (seq.NumTokens - 1));
        }

        bool groupFinished = Array.TrueForAll(group.Finished, f => f);
        if (groupFinished)
        {
            Metrics.RecordE2eLatency(Stopwatch.GetElapsedTime(group.ArrivalTicks, now).TotalSeconds);
        }

        // Metrics before the last delta: a client that reads /metrics as soon as it has its answer sees the request
        // finished (the scheduler has already let it go). Written after, the running gauge could still count it.
        RefreshGauges();
        group.Output.TryWrite(new TokenDelta(seq.Index, tokens, text, logprobs, reason, usage));
        if (groupFinished)
        {
            group.Output.TryComplete();
            _groups.Remove(group.Request.RequestId);
        }
    }

    private static FinishReason ReasonOf(RequestStatus status) => status switch
    {
        RequestStatus.FinishedLength => FinishReason.Length,
        RequestStatus.FinishedAborted => FinishReason.Abort,
        _ => FinishReason.Stop,
    };

    /// <summary>All sequences of one submitted request, sharing one output channel.</summary>
    private sealed class RequestGroup(EngineRequest request, ChannelWriter<TokenDelta> output, long arrivalTicks)
    {
        public EngineRequest Request { get; } = request;

        public ChannelWriter<TokenDelta> Output { get; } = output;

        public long ArrivalTicks { get; } = arrivalTicks;

        public List<Sequence> Sequences { get; } = [];

        public bool[] Finished { get; } = new bool[request.N];

        public bool FirstTokenSeen { get; set; }

        public int CachedTokens { get; set; } = -1;

        /// <summary>Ends the completions that were never forked (aborted before the prompt finished).</summary>
        public void CompleteUnforked()
        {
            for (var i = 0; i < Finished.Length; i++)
            {
                if (!Finished[i])
                {
                    Finished[i] = true;
                    Output.TryWrite(new TokenDelta(i, [], string.Empty, null, FinishReason.Abort, new RequestUsage(Request.PromptTokenIds.Length, 0, Math.Max(0, CachedTokens))));
                }
            }

            Output.TryComplete();
        }
    }

    /// <summary>One sequence being generated: its Core request and its text state.</summary>
    private sealed class Sequence(RequestGroup group, Request request, int index, IncrementalDetokenizer detokenizer, StopStringMatcher? stops)
    {
        public RequestGroup Group { get; } = group;

        public Request Request { get; } = request;

        public int Index { get; } = index;

        public IncrementalDetokenizer Detokenizer { get; } = detokenizer;

        public StopStringMatcher? Stops { get; } = stops;

        public int NumTokens { get; set; }

        public long FirstTokenTicks { get; set; }
    }
}
