using Kvasir.Core.Requests;
using Kvasir.Core.Scheduling;
using static Kvasir.Core.Tests.Scheduling.SchedulerHarness;

namespace Kvasir.Core.Tests.Scheduling;

public class AddRequestTests
{
    private static AddRequestResult Add(Scheduler s, Request r) => s.AddRequest(r);

    [Fact]
    public void PromptLongerThanTheContextIsRejectedWithBothNumbers()
    {
        var h = new SchedulerHarness(Config(maxModelLen: 16), numBlocks: 64);
        var r = new Request("r", Range(0, 17));
        AddRequestResult result = Add(h.Scheduler, r);
        Assert.Equal(AddRequestStatus.PromptTooLong, result.Status);
        Assert.Contains("17 tokens", result.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("16 tokens", result.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(RequestStatus.FinishedIgnored, r.Status);
        Assert.True(h.Scheduler.IsIdle);
        Assert.Equal(1, h.Scheduler.NumRejectedRequests);
    }

    [Fact]
    public void PromptLargerThanTheWholePoolIsRejectedWithBothNumbers()
    {
        var h = new SchedulerHarness(Config(maxModelLen: 1024), numBlocks: 4); // 16 tokens
        AddRequestResult result = Add(h.Scheduler, new Request("r", Range(0, 17)));
        Assert.Equal(AddRequestStatus.ExceedsKvCapacity, result.Status);
        Assert.Contains("needs 5 KV blocks", result.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("4 blocks (16 tokens)", result.ErrorMessage, StringComparison.Ordinal);
        Assert.True(Add(h.Scheduler, new Request("ok", Range(0, 16))).IsAccepted);
    }

    [Fact]
    public void FullWaitingQueueIsRejected()
    {
        var h = new SchedulerHarness(Config() with { MaxWaitingRequests = 2 }, numBlocks: 64);
        Assert.True(Add(h.Scheduler, new Request("a", [1])).IsAccepted);
        Assert.True(Add(h.Scheduler, new Request("b", [1])).IsAccepted);
        AddRequestResult result = Add(h.Scheduler, new Request("c", [1]));
        Assert.Equal(AddRequestStatus.QueueFull, result.Status);
        Assert.Contains("2 of 2", result.ErrorMessage, StringComparison.Ordinal);
        h.Step();                                  // both admitted: room again
        Assert.True(Add(h.Scheduler, new Request("c", [1])).IsAccepted);
    }

    [Fact]
    public void TooManyParallelSamplesAreRejected()
    {
        var h = new SchedulerHarness(Config(maxNumSeqs: 4), numBlocks: 64);
        AddRequestResult result = Add(h.Scheduler, new Request("a", [1]) { NumSamples = 5 });
        Assert.Equal(AddRequestStatus.TooManySamples, result.Status);
        Assert.Contains("n = 5", result.ErrorMessage, StringComparison.Ordinal);
        Assert.True(Add(h.Scheduler, new Request("b", [1]) { NumSamples = 4 }).IsAccepted);
    }

    [Fact]
    public void MalformedRequestsAreInvalid()
    {
        var h = new SchedulerHarness(Config(), numBlocks: 64);
        Assert.True(Add(h.Scheduler, new Request("a", [1])).IsAccepted);
        Assert.Equal(AddRequestStatus.Invalid, Add(h.Scheduler, new Request("a", [1])).Status);
        Assert.Equal(AddRequestStatus.Invalid, Add(h.Scheduler, new Request("x#1", [1])).Status);
        Assert.Equal(AddRequestStatus.Invalid, Add(h.Scheduler, new Request("m", [1]) { MaxTokens = 0 }).Status);
        Assert.Equal(AddRequestStatus.Invalid, Add(h.Scheduler, new Request("n", [1]) { NumSamples = 0 }).Status);
        Assert.Equal(AddRequestStatus.Invalid, Add(h.Scheduler, new Request("s", [1]) { NumComputedTokens = 1 }).Status);
        Assert.True(h.Scheduler.TryGetRequest("a", out Request a));
        Assert.Equal(RequestStatus.Waiting, a.Status);             // a duplicate's rejection leaves the live one alone
        Assert.Equal(AddRequestStatus.Invalid, Add(h.Scheduler, a).Status);
        Assert.Equal(RequestStatus.Waiting, a.Status);
        Assert.Equal(1, h.Scheduler.NumWaitingRequests);
    }

    [Fact]
    public void BadConfigThrowsWithTheField()
    {
        var e = Assert.Throws<ArgumentException>(() => new Scheduler(Config() with { MaxNumSeqs = 0 }, new Kvasir.Core.KvCache.KvCacheManager(4)));
        Assert.Contains("MaxNumSeqs", e.Message, StringComparison.Ordinal);
        Assert.Null(Config().Validate());
    }
}
