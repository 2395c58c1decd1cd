# Image for the Rasa side (the Rasa server and the action server): Python 3.10, Rasa 3.6.21,
# the multilingual sentence encoder and language detector (both ship their models inside
# their wheels), the trained model from models/ (run `make train` before building).
FROM python:3.10-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/app BOOKA_VAR_DIR=/app/var TF_CPP_MIN_LOG_LEVEL=3 RASA_TELEMETRY_ENABLED=false
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
COPY requirements/rasa.lock requirements/rasa.lock
RUN pip install --no-cache-dir -r requirements/rasa.lock
COPY booka_common booka_common
COPY bot bot
COPY actions actions
COPY connectors connectors
COPY duckling_server duckling_server
COPY scripts/run_rasa.py scripts/run_rasa.py
COPY config.yml endpoints.yml credentials.yml ./
COPY models models
RUN useradd --create-home booka && mkdir -p var && chown booka var
USER booka
EXPOSE 5005 5055
CMD ["python", "scripts/run_rasa.py", "-i", "0.0.0.0"]
