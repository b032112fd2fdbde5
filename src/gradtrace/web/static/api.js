// Talking to the gradtrace server, or reading the trace embedded in an offline copy.

export class ApiError extends Error {}

// The offline copy's data ({trace, notation, options}), or null when served.
export function embedded() {
  const script = document.getElementById("gt-embedded");
  return script ? JSON.parse(script.textContent) : null;
}

export async function api(path, body = undefined) {
  const init = body === undefined ? {} : {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  };
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(`cannot reach the gradtrace server (${error.message}); is it still running?`);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const message = data && data.message ? data.message : `${response.status} ${response.statusText}`;
    throw new ApiError(message);
  }
  return data;
}
