using Kvasir.Core.KvCache;
using Kvasir.Core.Requests;

namespace Kvasir.Core.Tests.Requests;

public class RequestTests
{
    [Fact]
    public void TracksPromptAndOutputTokens()
    {
        var r = new Request("r", [1, 2, 3], new PrefixCacheKeys("salt", "m"), priority: 2, arrivalTime: 1.5);
        r.AppendOutputToken(9);
        r.AppendOutputToken(8);
        Assert.Equal(5, r.NumTokens);
        Assert.Equal(3, r.NumPromptTokens);
        Assert.Equal(2, r.NumOutputTokens);
        Assert.Equal([1, 2, 3], r.PromptTokenIds.ToArray());
        Assert.Equal([9, 8], r.OutputTokenIds.ToArray());
        Assert.Equal([1, 2, 3, 9, 8], r.TokenIds.ToArray());
        Assert.Equal(RequestStatus.Waiting, r.Status);
        Assert.Equal(-1, r.NumCachedTokens);
        Assert.Equal("salt", r.CacheKeys.CacheSalt);
        Assert.Equal(2, r.Priority);
        Assert.Equal(1.5, r.ArrivalTime);
    }

    [Theory]
    [InlineData(RequestStatus.Waiting, false)]
    [InlineData(RequestStatus.Running, false)]
    [InlineData(RequestStatus.Preempted, false)]
    [InlineData(RequestStatus.FinishedStopped, true)]
    [InlineData(RequestStatus.FinishedLength, true)]
    [InlineData(RequestStatus.FinishedAborted, true)]
    [InlineData(RequestStatus.FinishedIgnored, true)]
    public void IsFinishedCoversEveryFinishedState(RequestStatus status, bool finished) =>
        Assert.Equal(finished, new Request("r", [1]) { Status = status }.IsFinished);

    [Fact]
    public void EmptyPromptIsRejected() =>
        Assert.Throws<ArgumentException>(() => new Request("r", []));
}
