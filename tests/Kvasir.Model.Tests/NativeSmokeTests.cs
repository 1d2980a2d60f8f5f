using LLama.Native;

namespace Kvasir.Model.Tests;

public class NativeSmokeTests
{
    [Fact]
    public void LlamaCppLoads()
    {
        NativeApi.llama_empty_call();
        Assert.True(NativeApi.llama_max_devices() >= 1);
    }
}
