namespace Kvasir.Core.KvCache;

/// <summary>
/// A copy-on-write copy for the runner: copy every layer's K and V of block <paramref name="SrcBlockId"/> into
/// block <paramref name="DstBlockId"/> before the forward pass of the step in which it was recorded.
/// </summary>
/// <param name="SrcBlockId">The shared block whose slots already hold KV.</param>
/// <param name="DstBlockId">The fresh block that replaces it in the writing request's block table.</param>
public readonly record struct BlockCopy(int SrcBlockId, int DstBlockId);
