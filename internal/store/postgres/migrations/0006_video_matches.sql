-- +goose Up
-- Video (vPDQ) matches record the share of the uploaded video's frames
-- found in the known video and the share of the known video found in the
-- upload, in thousandths (0 to 1000); 0 for images and exact hashes.
ALTER TABLE file_matches ADD COLUMN query_permille INTEGER NOT NULL DEFAULT 0;
ALTER TABLE file_matches ADD COLUMN target_permille INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE file_matches DROP COLUMN target_permille;
ALTER TABLE file_matches DROP COLUMN query_permille;
