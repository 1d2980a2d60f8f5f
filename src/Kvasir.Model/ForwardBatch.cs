namespace Kvasir.Model;

/// <summary>
/// The input of one forward pass: the tokens of several sequences flattened into one batch, plain arrays
/// that any backend can take. Reused from step to step (no allocation once capacities are reached).
/// </summary>
/// <remarks>
/// <code>
/// batch index:   0   1   2   3 | 4 | 5   6          NumTokens = 7, NumSeqs = 3
/// sequence:      A   A   A   A | B | C   C          SeqTokenStart = [0, 4, 5, 7]
/// position:      0   1   2   3 | 9 | 2   3          (RoPE and causal order)
/// slot:         32  33  34  35 |73 | 18  19         = BlockTable[j / BlockSize] * BlockSize + j % BlockSize
///                                                     where j is the token's index in the sequence's stored KV
/// A token attends to the first SeqKvLenBefore[s] + (its index within the sequence's chunk) + 1 stored slots.
/// </code>
/// Position and stored KV length are kept apart: they are equal until KV compression drops slots.
/// </remarks>
public sealed class ForwardBatch
{
    private int[] _tokenIds;
    private int[] _positions;
    private int[] _slotMapping;
    private int[] _seqTokenStart;
    private int[] _seqKvLenBefore;
    private int[][] _blockTables;
    private int[] _logitIndices;

    /// <summary>Creates a batch with initial capacities (they grow when exceeded).</summary>
    public ForwardBatch(int tokenCapacity = 512, int seqCapacity = 16)
    {
        _tokenIds = new int[tokenCapacity];
        _positions = new int[tokenCapacity];
        _slotMapping = new int[tokenCapacity];
        _seqTokenStart = new int[seqCapacity + 1];
        _seqKvLenBefore = new int[seqCapacity];
        _blockTables = new int[seqCapacity][];
        _logitIndices = new int[seqCapacity];
    }

    /// <summary>Number of tokens in the batch.</summary>
    public int NumTokens { get; private set; }

    /// <summary>Number of sequences in the batch.</summary>
    public int NumSeqs { get; private set; }

    /// <summary>Number of positions whose logits are wanted.</summary>
    public int NumLogits { get; private set; }

    /// <summary>Token ids [NumTokens].</summary>
    public ReadOnlySpan<int> TokenIds => _tokenIds.AsSpan(0, NumTokens);

    /// <summary>Positions [NumTokens] (drive RoPE).</summary>
    public ReadOnlySpan<int> Positions => _positions.AsSpan(0, NumTokens);

    /// <summary>KV slot each token's K/V is written to [NumTokens].</summary>
    public ReadOnlySpan<int> SlotMapping => _slotMapping.AsSpan(0, NumTokens);

    /// <summary>First batch index of each sequence, plus NumTokens at the end [NumSeqs + 1].</summary>
    public ReadOnlySpan<int> SeqTokenStart => _seqTokenStart.AsSpan(0, NumSeqs + 1);

    /// <summary>Stored KV slots of each sequence before this batch [NumSeqs].</summary>
    public ReadOnlySpan<int> SeqKvLenBefore => _seqKvLenBefore.AsSpan(0, NumSeqs);

    /// <summary>Batch indices whose logits are returned, in order [NumLogits].</summary>
    public ReadOnlySpan<int> LogitIndices => _logitIndices.AsSpan(0, NumLogits);

    /// <summary>The block table of sequence s.</summary>
    public int[] BlockTable(int s) => _blockTables[s];

    /// <summary>Empties the batch (keeps capacity).</summary>
    public void Clear()
    {
        NumTokens = 0;
        NumSeqs = 0;
        NumLogits = 0;
        _seqTokenStart[0] = 0;
    }

    /// <summary>
    /// Appends a chunk of one sequence: its tokens, the position of the first one, how many KV slots the
    /// sequence already stores, and its block table (which must already cover the new tokens).
    /// When <paramref name="wantLogits"/> is set, the chunk's last token returns logits.
    /// </summary>
    public void AddSequence(ReadOnlySpan<int> tokens, int firstPosition, int kvLenBefore, int[] blockTable, int blockSize, bool wantLogits)
    {
        ArgumentNullException.ThrowIfNull(blockTable);
        if (tokens.IsEmpty)
        {
            throw new ArgumentException("A sequence chunk needs at least one token.", nameof(tokens));
        }

        var needed = (kvLenBefore + tokens.Length + blockSize - 1) / blockSize;
        if (blockTable.Length < needed)
        {
            throw new ArgumentException($"The block table has {blockTable.Length} blocks; {kvLenBefore + tokens.Length} tokens need {needed}.", nameof(blockTable));
        }

        EnsureCapacity(NumTokens + tokens.Length, NumSeqs + 1);
        for (var i = 0; i < tokens.Length; i++)
        {
            var t = NumTokens + i;
            var j = kvLenBefore + i;
            _tokenIds[t] = tokens[i];
            _positions[t] = firstPosition + i;
            _slotMapping[t] = (blockTable[j / blockSize] * blockSize) + (j % blockSize);
        }

        _seqKvLenBefore[NumSeqs] = kvLenBefore;
        _blockTables[NumSeqs] = blockTable;
        NumTokens += tokens.Length;
        NumSeqs++;
        _seqTokenStart[NumSeqs] = NumTokens;
        if (wantLogits)
        {
            _logitIndices[NumLogits++] = NumTokens - 1;
        }
    }

    /// <summary>Asks for the logits of every token of the batch (for perplexity and prompt logprobs).</summary>
    public void RequestAllLogits()
    {
        EnsureCapacity(NumTokens, NumSeqs);
        if (_logitIndices.Length < NumTokens)
        {
            Array.Resize(ref _logitIndices, NumTokens);
        }

        for (var t = 0; t < NumTokens; t++)
        {
            _logitIndices[t] = t;
        }

        NumLogits = NumTokens;
    }

    private void EnsureCapacity(int tokens, int seqs)
    {
        if (tokens > _tokenIds.Length)
        {
            var n = Math.Max(tokens, _tokenIds.Length * 2);
            Array.Resize(ref _tokenIds, n);
            Array.Resize(ref _positions, n);
            Array.Resize(ref _slotMapping, n);
        }

        if (seqs > _seqKvLenBefore.Length)
        {
            var n = Math.Max(seqs, _seqKvLenBefore.Length * 2);
            Array.Resize(ref _seqTokenStart, n + 1);
            Array.Resize(ref _seqKvLenBefore, n);
            Array.Resize(ref _blockTables, n);
            Array.Resize(ref _logitIndices, Math.Max(n, _logitIndices.Length));
        }
    }
}
