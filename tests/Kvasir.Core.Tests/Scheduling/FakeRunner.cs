using Kvasir.Core.KvCache;
using Kvasir.Core.Requests;
using Kvasir.Core.Scheduling;

namespace Kvasir.Core.Tests.Scheduling;

/// <summary>
/// A runner without tensors. Its "KV" for position p of a sequence is a rolling hash of (cache salt, tokens 0..p),
/// one value per slot of a fake arena, so a slot reused while held, a prefix hit on a block nobody computed, or a
/// wrong copy-on-write copy shows up as a wrong value. Like the real runner it does the step's block copies first,
/// writes every scheduled token's KV, and only then checks what each request reads. Sampled tokens come from a
/// function of (request, number of tokens so far, sample index).
/// </summary>
internal sealed class FakeRunner
{
    private readonly Scheduler _scheduler;
    private readonly int _blockSize;
    private readonly ulong[] _arena; // [NumBlocks * BlockSize]

    public FakeRunner(Scheduler scheduler, Func<Request, int, int>? sampler = null)
    {
        _scheduler = scheduler;
        _blockSize = scheduler.KvCache.BlockSize;
        _arena = new ulong[scheduler.KvCache.NumBlocks * _blockSize];
        Sampler = sampler ?? ((r, sampleIndex) => 1000 + ((r.NumTokens * 7) + (sampleIndex * 13)) % 50);
    }

    /// <summary>(request, sample index) → sampled token. The request's tokens are those before this step's sample.</summary>
    public Func<Request, int, int> Sampler { get; set; }

    public ModelRunnerOutput Execute(SchedulerOutput output)
    {
        foreach (BlockCopy copy in output.BlockCopies)
            Array.Copy(_arena, copy.SrcBlockId * _blockSize, _arena, copy.DstBlockId * _blockSize, _blockSize);

        foreach (ScheduledRequest s in output.ScheduledRequests)
        {
            Request r = Lookup(s.RequestId);
            Assert.Equal(r.TokenIds.Slice(s.FirstPosition, s.NumTokens).ToArray(), s.TokenIds.ToArray());
            Assert.True(s.BlockTable.Length * _blockSize >= s.KvLenBefore + s.NumTokens, "The block table covers the step's tokens.");
            ulong v = Seed(r);
            ReadOnlySpan<int> tokens = r.TokenIds;
            for (int p = 0; p < s.FirstPosition + s.NumTokens; p++)
            {
                v = Mix(v, tokens[p]);
                if (p >= s.FirstPosition)
                    _arena[Slot(s.BlockTable, p)] = v;
            }
        }

        var sampled = new List<SampledTokens>();
        foreach (ScheduledRequest s in output.ScheduledRequests)
        {
            Request r = Lookup(s.RequestId);
            ulong v = Seed(r);
            ReadOnlySpan<int> tokens = r.TokenIds;
            for (int p = 0; p < s.KvLenBefore + s.NumTokens; p++)
            {
                v = Mix(v, tokens[p]);
                if (_arena[Slot(s.BlockTable, p)] != v)
                    Assert.Fail($"Step {output.Step}: request {r.RequestId} reads position {p} (block {s.BlockTable[p / _blockSize]}) holding KV of another sequence.");
            }
            if (s.WantLogits)
            {
                int[] ids = new int[s.NumSamples];
                for (int i = 0; i < ids.Length; i++)
                    ids[i] = Sampler(r, i);
                sampled.Add(new SampledTokens(s.RequestId, ids));
            }
            else
            {
                Assert.Equal(0, s.NumSamples);
            }
        }
        return new ModelRunnerOutput([.. sampled]);
    }

    private Request Lookup(string id)
    {
        Assert.True(_scheduler.TryGetRequest(id, out Request r), $"Scheduled request {id} is live.");
        return r;
    }

    private int Slot(int[] table, int position) => (table[position / _blockSize] * _blockSize) + (position % _blockSize);

    private static ulong Seed(Request r)
    {
        ulong v = 0x51A7_0000UL;
        foreach (char c in r.CacheKeys.CacheSalt ?? "")
            v = Mix(v, c);
        return v;
    }

    private static ulong Mix(ulong v, int token)
    {
        v ^= (uint)token;
        v *= 0x9E3779B97F4A7C15UL;
        return v ^ (v >> 29);
    }
}
