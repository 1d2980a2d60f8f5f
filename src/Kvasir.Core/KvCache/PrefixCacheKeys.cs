namespace Kvasir.Core.KvCache;

/// <summary>
/// Everything besides the token ids that determines a request's KV, and so enters every one of its block
/// hashes: two requests share cached blocks only if all three are equal. A null string and an empty one
/// are the same key.
/// </summary>
/// <param name="CacheSalt">The tenant's cache salt, set by the server from the authenticated tenant (never trusted from the client): tenants never share blocks, which closes the prompt-cache timing side channel between them.</param>
/// <param name="ModelId">The model (weights and KV format) the KV was computed with.</param>
/// <param name="ExtraKey">Anything else that changes the KV, such as an adapter or a steering vector.</param>
public readonly record struct PrefixCacheKeys(string? CacheSalt = null, string? ModelId = null, string? ExtraKey = null);
