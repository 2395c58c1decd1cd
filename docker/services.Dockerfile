# Image for the Python services (booking_service, tenant_engine, admin): Python 3.10, pinned deps. The engine and admin services override CMD.
FROM python:3.10-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/app BOOKA_VAR_DIR=/app/var
WORKDIR /app
COPY requirements/services.lock requirements/services.lock
RUN pip install --no-cache-dir -r requirements/services.lock
COPY booka_common booka_common
COPY services_common services_common
COPY booking_service booking_service
COPY tenant_engine tenant_engine
COPY admin admin
RUN useradd --create-home booka && mkdir -p var && chown booka var
USER booka
EXPOSE 8001
HEALTHCHECK CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8001/api/health').status != 200)"
CMD ["sh", "-c", "python -m booking_service migrate && python -m booking_service serve --host 0.0.0.0 --port 8001"]
