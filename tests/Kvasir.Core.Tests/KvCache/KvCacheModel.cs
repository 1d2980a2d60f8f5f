using Kvasir.Core.KvCache;
using Kvasir.Core.Requests;

namespace Kvasir.Core.Tests.KvCache;

/// <summary>One random operation: <see cref="Kind"/> picks the operation, A and B its choices.</summary>
public readonly record struct KvOp(int Kind, int A, int B)
{
    public override string ToString() => $"{(KvOpKind)(Kind % 6)}({A},{B})";
}

public enum KvOpKind
{
    Admit,
    Step,
    Fork,
    Finish,
    Readmit,
    QueryOrReset,
}

/// <summary>
/// Plays scheduler and runner around a real <see cref="KvCacheManager"/> and checks its invariants after every
/// operation. The runner is faked by an arena of one value per slot: the KV "computed" for position p is a
/// rolling hash of (cache salt, tokens 0..p), so any slot that was reused while held, shared across tenants or
/// prefixes, or copied wrongly shows up as a wrong value.
/// </summary>
internal sealed class KvCacheModel
{
    private static readonly int[][] Families =
    [
        Enumerable.Range(0, 64).ToArray(),
        Enumerable.Range(0, 64).Select(i => i < 20 ? i : 300 + i).ToArray(),
        Enumerable.Range(0, 64).Select(i => 700 + (i % 9)).ToArray(),
    ];

    private readonly KvCacheManager _kv;
    private readonly int _blockSize;
    private readonly ulong[] _arena; // [NumBlocks * BlockSize] fake KV per slot
    private readonly List<Request> _running = [];
    private readonly List<Request> _waiting = [];
    private int _nextId;

    public KvCacheModel(int numBlocks, int blockSize)
    {
        _kv = new KvCacheManager(numBlocks, blockSize);
        _blockSize = blockSize;
        _arena = new ulong[numBlocks * blockSize];
    }

    public void Apply(KvOp op)
    {
        int a = op.A;
        int b = op.B;
        switch ((KvOpKind)(op.Kind % 6))
        {
            case KvOpKind.Admit:
            {
                int length = 1 + (a % 40);
                int[] family = Families[b % 3];
                int shared = (b / 3) % (length + 1);
                int[] tokens = new int[length];
                for (int i = 0; i < length; i++)
                    tokens[i] = i < shared ? family[i] : 1000 + ((a + (i * 7) + b) % 13);
                string salt = (b / 7) % 2 == 0 ? "s0" : "s1";
                var request = new Request($"r{_nextId++}", tokens, new PrefixCacheKeys(salt));
                _waiting.Add(request);
                Admit(request, 1 + ((a / 40) % 24));
                break;
            }
            case KvOpKind.Step when _running.Count > 0:
            {
                Request r = _running[a % _running.Count];
                int numNew = Math.Min(r.NumTokens - r.NumComputedTokens, 1 + (b % 20));
                if (_kv.AllocateSlots(r, numNew) is null)
                {
                    Assert.Equal(0, _kv.NumPendingCopies);
                    Preempt(r);
                    break;
                }
                Compute(r, r.NumComputedTokens, numNew);
                if (r.NumComputedTokens == r.NumTokens)
                    r.AppendOutputToken(2000 + ((a + b) % 5));
                break;
            }
            case KvOpKind.Fork when _running.Count > 0:
            {
                Request parent = _running[a % _running.Count];
                int computed = parent.NumComputedTokens;
                var child = new Request($"r{_nextId++}", parent.TokenIds[..computed], parent.CacheKeys) { NumComputedTokens = computed };
                _kv.Fork(parent, child);
                child.AppendOutputToken(2000 + (b % 5));
                child.Status = RequestStatus.Running;
                _running.Add(child);
                break;
            }
            case KvOpKind.Finish when _running.Count + _waiting.Count > 0:
            {
                int i = a % (_running.Count + _waiting.Count);
                Request r = i < _running.Count ? _running[i] : _waiting[i - _running.Count];
                _kv.Free(r);
                r.Status = RequestStatus.FinishedAborted;
                _running.Remove(r);
                _waiting.Remove(r);
                Assert.True(_kv.GetBlockIds(r).IsEmpty);
                break;
            }
            case KvOpKind.Readmit when _waiting.Count > 0:
                Admit(_waiting[a % _waiting.Count], 1 + (b % 24));
                break;
            case KvOpKind.QueryOrReset:
                if (b % 8 == 0)
                {
                    _kv.ResetPrefixCache();
                    Assert.Equal(0, _kv.NumCachedBlocks);
                }
                else if (_running.Count + _waiting.Count > 0)
                {
                    int i = a % (_running.Count + _waiting.Count);
                    Request r = i < _running.Count ? _running[i] : _waiting[i - _running.Count];
                    int[] queue = _kv.Pool.FreeQueueToArray();
                    KvCacheStats stats = _kv.Stats;
                    int cached = _kv.CountCachedTokens(r);
                    Assert.True(cached % _blockSize == 0 && cached < r.NumTokens);
                    Assert.Equal(queue, _kv.Pool.FreeQueueToArray());
                    Assert.Equal(stats, _kv.Stats);
                }
                break;
        }
        CheckInvariants();
    }

    /// <summary>Ends every request and checks that the pool is whole again.</summary>
    public void FinishAll()
    {
        foreach (Request r in _running)
            _kv.Free(r);
        foreach (Request r in _waiting)
            _kv.Free(r);
        _running.Clear();
        _waiting.Clear();
        Assert.Equal(_kv.NumBlocks, _kv.NumFreeBlocks);
        Assert.Equal(0, _kv.NumRequests);
        Assert.Equal(0.0, _kv.Usage);
        for (int id = 0; id < _kv.NumBlocks; id++)
            Assert.Equal(0, _kv.Pool.GetRefCount(id));
        CheckInvariants();
    }

    private void Admit(Request r, int chunk)
    {
        Assert.True(_kv.GetBlockIds(r).IsEmpty);
        var (hit, numHit) = _kv.GetComputedBlocks(r);
        Assert.True(numHit % _blockSize == 0 && numHit < r.NumTokens);
        int numNew = Math.Min(r.NumTokens - numHit, chunk);
        if (_kv.AllocateSlots(r, numNew, numHit, hit) is null)
        {
            Assert.True(_kv.GetBlockIds(r).IsEmpty);
            return;
        }
        r.NumComputedTokens = numHit;
        VerifyKv(r); // the hit blocks really hold this prefix's KV
        Compute(r, numHit, numNew);
        if (r.NumComputedTokens == r.NumTokens)
            r.AppendOutputToken(2000 + (chunk % 5));
        _waiting.Remove(r);
        _running.Add(r);
        r.Status = RequestStatus.Running;
    }

    private void Preempt(Request r)
    {
        _kv.Free(r);
        r.NumComputedTokens = 0;
        r.Status = RequestStatus.Preempted;
        _running.Remove(r);
        _waiting.Add(r);
    }

    /// <summary>The runner: copy-on-write copies first, then the KV of positions [start, start + count).</summary>
    private void Compute(Request r, int start, int count)
    {
        foreach (BlockCopy copy in _kv.TakePendingCopies())
            Array.Copy(_arena, copy.SrcBlockId * _blockSize, _arena, copy.DstBlockId * _blockSize, _blockSize);
        ReadOnlySpan<int> table = _kv.GetBlockIds(r);
        ulong v = SaltSeed(r);
        ReadOnlySpan<int> tokens = r.TokenIds;
        for (int p = 0; p < start + count; p++)
        {
            v = Mix(v, tokens[p]);
            if (p >= start)
                _arena[Slot(table, p)] = v;
        }
        r.NumComputedTokens = start + count;
    }

    private void VerifyKv(Request r)
    {
        ReadOnlySpan<int> table = _kv.GetBlockIds(r);
        ulong v = SaltSeed(r);
        ReadOnlySpan<int> tokens = r.TokenIds;
        for (int p = 0; p < r.NumComputedTokens; p++)
        {
            v = Mix(v, tokens[p]);
            if (_arena[Slot(table, p)] != v)
                Assert.Fail($"Request {r.RequestId}: slot of position {p} (block {table[p / _blockSize]}) holds KV of another sequence.");
        }
    }

    private void CheckInvariants()
    {
        Assert.Equal(0, _kv.NumPendingCopies);
        var holders = new int[_kv.NumBlocks];
        foreach (Request r in _running)
        {
            int[] table = _kv.GetBlockIds(r).ToArray();
            // KV waste: exactly the blocks the computed tokens need, so at most one partial block.
            Assert.Equal((r.NumComputedTokens + _blockSize - 1) / _blockSize, table.Length);
            Assert.Equal(table.Length, table.Distinct().Count());
            foreach (int id in table)
                holders[id]++;
            VerifyKv(r);
        }
        foreach (Request r in _waiting)
            Assert.True(_kv.GetBlockIds(r).IsEmpty);
        Assert.Equal(_running.Count, _kv.NumRequests);

        var queue = _kv.Pool.FreeQueueToArray();
        Assert.Equal(queue.Length, _kv.NumFreeBlocks);
        var queued = new HashSet<int>(queue);
        Assert.Equal(queue.Length, queued.Count);
        int numCached = 0;
        for (int id = 0; id < _kv.NumBlocks; id++)
        {
            Assert.Equal(holders[id], _kv.Pool.GetRefCount(id));
            Assert.Equal(holders[id] == 0, queued.Contains(id));
            if (_kv.Pool.IsCached(id))
            {
                numCached++;
                Assert.True(_kv.PrefixIndex.TryGetBlockId(_kv.Pool.GetBlockHash(id), out int indexed));
                Assert.Equal(id, indexed);
            }
        }
        Assert.Equal(numCached, _kv.NumCachedBlocks);
    }

    private int Slot(ReadOnlySpan<int> table, int position) => (table[position / _blockSize] * _blockSize) + (position % _blockSize);

    private static ulong SaltSeed(Request r) => r.CacheKeys.CacheSalt == "s0" ? 0x51A7_0000UL : 0x51A7_0001UL;

    private static ulong Mix(ulong v, int token)
    {
        v ^= (uint)token;
        v *= 0x9E3779B97F4A7C15UL;
        return v ^ (v >> 29);
    }
}
