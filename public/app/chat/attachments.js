import { h } from "../dom.js";

/**
 * The pictures a message carries (`attachments: [{kind: "image", job_id, url, width, height}]`),
 * each a link to the full image. Width and height are set so the thread doesn't jump as they load.
 * @param {object[] | undefined} attachments
 * @returns {HTMLElement[]}
 */
export function attachmentsView(attachments) {
  return (attachments ?? [])
    .filter((item) => item?.kind === "image" && item.url)
    .map((item) =>
      h(
        "a",
        {
          class: "msg__picture",
          href: item.url,
          target: "_blank",
          rel: "noopener",
          "data-testid": "message-picture",
          "data-job-id": item.job_id,
        },
        h("img", {
          src: item.url,
          width: item.width,
          height: item.height,
          alt: "A picture from the character",
          loading: "lazy",
          decoding: "async",
        }),
      ),
    );
}
